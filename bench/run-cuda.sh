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

echo "== benchmark"
timeout 200 "$bench" --markdown "$out/bench.md" 2>&1 | tee "$out/bench.log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
exit $status
