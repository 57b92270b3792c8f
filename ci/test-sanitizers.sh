#!/usr/bin/env bash
# CI stage: the native library and its test suite built with AddressSanitizer
# and UndefinedBehaviorSanitizer, without recovery (the first report fails the
# run), in build-sanitizers/; then every native test (CTest), and the
# random-input harness (tests/native/fuzz_test.cpp) for longer: its fixed
# seeds plus one seed from the clock, which it prints (rerun one seed with
# LLA_FUZZ_SEED=<seed>). LLA_SANITIZER_FUZZ_SECONDS sets the budget per seed.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-sanitizers
# Tests at -O1 -g1 (line tables for the reports, a much faster build than
# -O2 -g, asserts on); the library keeps its own -O3.
flags="-fsanitize=address,undefined -fno-sanitize-recover=all -fno-omit-frame-pointer"
start=$SECONDS
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_C_FLAGS_RELEASE="-O1 -g1" -DCMAKE_CXX_FLAGS_RELEASE="-O1 -g1" \
    -DCMAKE_C_FLAGS="$flags" -DCMAKE_CXX_FLAGS="$flags" \
    -DCMAKE_EXE_LINKER_FLAGS="-fsanitize=address,undefined" -DCMAKE_SHARED_LINKER_FLAGS="-fsanitize=address,undefined"
cmake --build "$build" -j2 --target lla_tests llacheck llacompare
echo "test-sanitizers: built in $((SECONDS - start)) s"

export ASAN_OPTIONS=abort_on_error=1:detect_leaks=1:strict_string_checks=1:check_initialization_order=1
export UBSAN_OPTIONS=print_stacktrace=1:halt_on_error=1
ctest --test-dir "$build" --output-on-failure -j2
LLA_FUZZ_SECONDS="${LLA_SANITIZER_FUZZ_SECONDS:-10}" LLA_FUZZ_TIME_SEED=1 \
    "$build/tests/native/lla_tests" --gtest_filter='Fuzz.*'
echo "test-sanitizers: native suite and random-input harness clean under ASan + UBSan in $((SECONDS - start)) s"
