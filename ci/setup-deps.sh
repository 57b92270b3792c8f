#!/usr/bin/env bash
# Installs the Debian packages the native build and tests need, only those
# missing (idempotent; runs `apt-get update` only when it installs). Works as
# root on a fresh Debian 12, or through sudo. libopenblas-dev serves only the
# CPU benchmark's sgemm ceiling (bench/sgemm_ceiling.h); the library never links it.
set -euo pipefail

packages=(g++ cmake ninja-build libgtest-dev nlohmann-json3-dev openjdk-17-jdk-headless maven libopenblas-dev)
missing=()
for p in "${packages[@]}"; do
  dpkg-query -W -f='${Status}' "$p" 2>/dev/null | grep -q "install ok installed" || missing+=("$p")
done
if [ ${#missing[@]} -eq 0 ]; then
  echo "setup-deps: all present (${packages[*]})"
  exit 0
fi

as_root=()
[ "$(id -u)" -eq 0 ] || as_root=(sudo)
echo "setup-deps: installing ${missing[*]}"
export DEBIAN_FRONTEND=noninteractive
"${as_root[@]}" apt-get update
"${as_root[@]}" apt-get install -y --no-install-recommends "${missing[@]}"
