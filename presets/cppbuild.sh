#!/usr/bin/env bash
# Builds libloglinear with CMake and installs it (include/, lib/) where the JavaCPP
# compiler of presets/pom.xml links against it and copies it into the classifier jar.
# Called by Maven in the initialize phase; incremental, so a second run costs seconds.
#   cppbuild.sh SOURCE_DIR BUILD_DIR INSTALL_DIR CUDA(ON|OFF)
# Extra CMake arguments come from $LLA_CMAKE_ARGS; for a CUDA build without them, the
# compiler and CUTLASS that ci/setup-cuda.sh installed (.toolchain/cuda.env) are used.
# Parallelism comes from $LLA_JOBS (default 2: CI machines have two cores).
# LLA_CPPBUILD_FROM=DIR installs an existing build of the same sources instead.
set -euo pipefail
if [ $# -ne 4 ]; then
    echo "usage: $0 SOURCE_DIR BUILD_DIR INSTALL_DIR ON|OFF" >&2
    exit 2
fi
src=$1 build=$2 install=$3 cuda=$4

# An existing CMake build of the same sources (LLA_CPPBUILD_FROM, e.g. CI's
# build-cuda/, configured with the same CUDA setting) is installed instead of
# compiling the library a second time.
if [ -n "${LLA_CPPBUILD_FROM:-}" ]; then
    cmake --install "$LLA_CPPBUILD_FROM" --prefix "$install" >/dev/null
    if ls "$install"/lib/libloglinear.so* >/dev/null 2>&1; then
        exit 0
    fi
    echo "cppbuild.sh: $LLA_CPPBUILD_FROM installed no lib/libloglinear.so; building" >&2
fi

extra=${LLA_CMAKE_ARGS:-}
if [ "$cuda" = ON ] && [ -z "$extra" ] && [ -f "$src/.toolchain/cuda.env" ]; then
    # shellcheck source=/dev/null
    source "$src/.toolchain/cuda.env"
    extra="-DCMAKE_CUDA_COMPILER=$LLA_CUDA_COMPILER -DLLA_CUTLASS_DIR=$LLA_CUTLASS_DIR"
fi

generator=()
if command -v ninja >/dev/null 2>&1 && [ ! -f "$build/CMakeCache.txt" ]; then
    generator=(-G Ninja)
fi
# shellcheck disable=SC2086  # $extra is a list of arguments
cmake -S "$src" -B "$build" "${generator[@]}" \
    -DCMAKE_BUILD_TYPE=Release \
    -DCMAKE_INSTALL_PREFIX="$install" -DCMAKE_INSTALL_LIBDIR=lib \
    -DLLA_CUDA="$cuda" -DLLA_BUILD_TESTS=OFF -DLLA_BUILD_BENCH=OFF -DLLA_BUILD_TOOLS=OFF \
    $extra >/dev/null
cmake --build "$build" --parallel "${LLA_JOBS:-2}"
cmake --install "$build" >/dev/null
