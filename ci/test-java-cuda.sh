#!/usr/bin/env bash
# Java against the linux-x86_64-cuda classifier: builds the presets with the CUDA
# backend (-Djavacpp.platform.extension=-cuda; the compiler and CUTLASS that
# ci/setup-cuda.sh installed) and runs the dev.loglinear API tests on that native
# library. Without a GPU the CUDA backend reports no usable device and every test
# runs on the CPU backend, so this checks that the CUDA classifier builds, loads
# and serves the API. Run after ci/test-java.sh (which installs the reactor) and
# ci/build-cuda.sh (whose library it packs).
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/setup-cuda.sh
start=$SECONDS
# The CUDA library that ci/build-cuda.sh compiled (when present) goes into the
# classifier as it is, instead of being compiled a second time.
if [[ -f build-cuda/CMakeCache.txt ]] && grep -q "^LLA_CUDA:BOOL=ON" build-cuda/CMakeCache.txt; then
    export LLA_CPPBUILD_FROM=$PWD/build-cuda
fi
mvn -B -q -pl presets,java-api/loglinear install -Djavacpp.platform.extension=-cuda
bash ci/surefire-totals.sh "test-java-cuda (linux-x86_64-cuda)" ./java-api/loglinear
ls presets/target/loglinear-presets-*-linux-x86_64-cuda.jar
echo "test-java-cuda: done in $((SECONDS - start)) s"
