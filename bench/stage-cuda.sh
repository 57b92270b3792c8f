#!/usr/bin/env bash
# Copies what one device run needs from a CUDA build (default build-cuda/)
# into the git-ignored .device/bin/: the GPU tests, the benchmark, llacheck and llacompare,
# libloglinear and the CUDA runtime it was built against (the tools link the
# shared one). Then a device run carries .device/bin and executes
# bench/run-cuda.sh .device/bin.
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-cuda}
dest=.device/bin
rm -rf "$dest"
mkdir -p "$dest"
for f in tests/native/cuda/lla_cuda_tests bench/lla_bench_cuda native/tools/llacheck native/tools/llacompare; do
    [[ -f $build/$f ]] && cp "$build/$f" "$dest/"
done
cp -L "$build"/libloglinear.so.[0-9] "$dest/"
# shellcheck source=/dev/null
source .toolchain/cuda.env
cudart=$(dirname "$LLA_CUDA_COMPILER")/../lib/libcudart.so.13
[[ -f $cudart ]] && cp -L "$cudart" "$dest/"
strip --strip-unneeded "$dest"/* 2>/dev/null || true
du -sh "$dest"
ls -la "$dest"
