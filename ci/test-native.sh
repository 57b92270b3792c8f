#!/usr/bin/env bash
# Builds libloglinear, llacheck and the native tests (CPU; Release, Ninja) in
# build-native/ and runs them with CTest.
set -euo pipefail
cd "$(dirname "$0")/.."

build=build-native
cmake -S . -B "$build" -G Ninja -DCMAKE_BUILD_TYPE=Release
cmake --build "$build" -j2
ctest --test-dir "$build" --output-on-failure
