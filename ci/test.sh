#!/usr/bin/env bash
# The project's test command (README, .ci/run). Installs what it needs, then
# builds and tests everything that runs without a GPU. Each stage is a script
# of its own so that it can also be run alone.
set -euo pipefail
cd "$(dirname "$0")/.."

bash ci/setup-deps.sh
bash ci/test-native.sh
bash ci/test-sanitizers.sh
bash ci/build-cuda.sh
bash ci/test-java.sh
bash ci/test-java-cuda.sh
./lla demo   # the README run command, on the CPU: exits non-zero if a check fails
