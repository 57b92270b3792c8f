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

echo "== backward contract on the GPU (llacheck --split-at)"
llacheck=$(find_bin llacheck)
for spec in m2_t1024:300 m2_t1024:512 m2_t300_h3:100 m2_t100_gqa:37 m2_strong_decay_neg_lambda:64; do
    case=${spec%%:*} n=${spec##*:}
    for dtype in f32 bf16; do
        if timeout 60 "$llacheck" --case "tests/data/golden/$case" --out "$out/split/$case-$n-$dtype" --dtype "$dtype" \
            --backend cuda --split-at "$n" > "$out/split-$case-$n-$dtype.log" 2>&1; then
            echo "split $case at $n ($dtype): ok"
        else
            echo "split $case at $n ($dtype): FAILED"; tail -5 "$out/split-$case-$n-$dtype.log"; status=1
        fi
    done
done

echo "== benchmark"
timeout 200 "$bench" --markdown "$out/bench.md" 2>&1 | tee "$out/bench.log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
exit $status
