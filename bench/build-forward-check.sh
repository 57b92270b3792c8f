#!/usr/bin/env bash
# Builds bench/forward_check.cu with the CUDA forward sources (sm_90a only, the
# H200's target) into build-kernels/ and stages the binary in .device/fwd/ for
# a device run:  .device/fwd/forward_check [--check] [--time] [--reps N]
# Register / spill report of the kernels: build-kernels/ptxas.log.
set -euo pipefail
cd "$(dirname "$0")/.."
# shellcheck source=/dev/null
source .toolchain/cuda.env
out=build-kernels
mkdir -p "$out" .device/fwd
flags=(-std=c++17 -O3 --expt-relaxed-constexpr -gencode arch=compute_90a,code=sm_90a
       -I native/include -I native/src -isystem "$LLA_CUTLASS_DIR/include" -Xptxas -v -lineinfo)
srcs=(native/src/cuda/forward/*.cu native/src/cuda/forward/forward.cpp native/src/core/error.cpp
      native/src/cuda/common/cuda_status.cpp bench/forward_check.cu)
newest_header=$(ls -t native/src/cuda/forward/*.h | head -n1)
failed=0
pids=()
objs=()
: > "$out/ptxas.log.new"
for s in "${srcs[@]}"; do
    o=$out/$(basename "$s").o
    objs+=("$o")
    if [[ ! -f $o || $s -nt $o || $newest_header -nt $o ]]; then
        echo "nvcc $s"
        { "$LLA_CUDA_COMPILER" "${flags[@]}" -c "$s" -o "$o" >"$o.log" 2>&1 || { cat "$o.log"; rm -f "$o"; exit 1; }; } &
        pids+=($!)
        if (( ${#pids[@]} >= 2 )); then wait "${pids[0]}" || failed=1; pids=("${pids[@]:1}"); fi
    fi
done
for pid in "${pids[@]}"; do wait "$pid" || failed=1; done
[[ $failed == 0 ]] || { echo "compile failed"; exit 1; }
cat "$out"/*.o.log > "$out/ptxas.log" 2>/dev/null || true
"$LLA_CUDA_COMPILER" -gencode arch=compute_90a,code=sm_90a "${objs[@]}" -o .device/fwd/forward_check -lpthread
ls -la .device/fwd/forward_check
