#!/usr/bin/env bash
# One device run (the lent GPU machine): GPU tests, then the benchmark.
#   bash bench/run-cuda.sh [BIN_DIR]
# BIN_DIR holds lla_cuda_tests, lla_bench_cuda and libloglinear.so.* (from
# bench/stage-cuda.sh, default .device/bin; a build-cuda/ tree works too).
# Logs go to $OUT (the device run's output folder) or .device/out.
set -uo pipefail
cd "$(dirname "$0")/.."
bin=$(realpath "${1:-.device/bin}")
out=${OUT:-$PWD/.device/out}
mkdir -p "$out"
find_bin() { find "$bin" -name "$1" -type f | head -n1; }
tests=$(find_bin lla_cuda_tests)
bench=$(find_bin lla_bench_cuda)
lib=$(dirname "$(find_bin 'libloglinear.so.[0-9]')")
export LD_LIBRARY_PATH="$lib:$bin:/usr/local/cuda/lib64:${LD_LIBRARY_PATH:-}"
export LLA_GOLDEN_DIR=$PWD/tests/data/golden

{
    date -u
    nvidia-smi --query-gpu=name,driver_version,memory.total,clocks.sm,clocks.mem,clocks.max.sm,power.limit \
        --format=csv 2>&1
    uname -a
    ldd "$tests" 2>&1 | grep -E "not found|loglinear|cudart" || true
} | tee "$out/device.txt"

status=0
echo "== GPU tests"
timeout 300 "$tests" --gtest_output="xml:$out/tests.xml" 2>&1 | tee "$out/tests.log" | \
    grep -E "^\[  (FAILED|PASSED|SKIPPED) |^\[==========\]|Failure|error|Expected|Which is|rel" | head -150
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1

echo "== backward contract on the GPU (llacheck --split-at N --backend cuda, then llacompare with the golden case)"
llacheck=$(find_bin llacheck)
llacompare=$(find_bin llacompare)
work=$(mktemp -d)
for case_dir in tests/data/golden/m2_*; do
    case=$(basename "$case_dir")
    [[ $case == m2_varlen ]] && continue  # --split-at needs batch rows without cu_seqlens
    T=$(python3 -c "import json,sys; print(json.load(open('$case_dir/case.json'))['shapes']['q'][1])" 2>/dev/null || echo 0)
    for n in 1 65 $((T / 2)); do
        (( n > 0 && n < T )) || continue
        dir=$work/$case-$n
        if timeout 60 "$llacheck" --case "$case_dir" --out "$dir" --dtype f32 --backend cuda --split-at "$n" \
                > "$dir.log" 2>&1 && "$llacompare" --ref "$case_dir" --out "$dir" --tol 1e-5 >> "$dir.log" 2>&1; then
            echo "split $case at $n (f32 exact): ok"
        else
            echo "split $case at $n (f32 exact): FAILED"; tail -8 "$dir.log"; status=1
        fi
    done
done
rm -rf "$work"

echo "== benchmark"
timeout 200 "$bench" --markdown "$out/bench.md" 2>&1 | tee "$out/bench.log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
exit $status
