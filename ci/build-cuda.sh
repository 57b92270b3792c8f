#!/usr/bin/env bash
# CI stage: the CUDA build. Installs the pinned toolchain (ci/setup-cuda.sh:
# CUTLASS headers, and nvcc wheels when the machine has none), then compiles
# the whole library with -DLLA_CUDA=ON (sm_90a and sm_80) in build-cuda/, so
# that a broken kernel build never lands. CI has no GPU: the GPU tests
# (label cuda) run and skip themselves, which also proves that the binaries
# load and answer "no device" cleanly.
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/setup-cuda.sh
# shellcheck source=/dev/null
source .toolchain/cuda.env

build=build-cuda
start=$SECONDS
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release -DLLA_CUDA=ON \
    -DCMAKE_CUDA_COMPILER="$LLA_CUDA_COMPILER" -DLLA_CUTLASS_DIR="$LLA_CUTLASS_DIR"
# The library with the CUDA backend and everything that links it; the CPU
# test suite itself runs in ci/test-native.sh.
cmake --build "$build" -j2 --target loglinear llacheck lla_cuda_tests lla_bench_cuda
echo "build-cuda: compiled in $((SECONDS - start)) s"
ctest --test-dir "$build" -L cuda --output-on-failure
