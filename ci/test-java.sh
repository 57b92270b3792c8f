#!/usr/bin/env bash
# Java stage: builds and installs the Maven reactor (JavaCPP presets, which build
# libloglinear with CMake; the dev.loglinear API and its tests; loglinear-platform; the
# lla command) into the local repository, then runs tests/java-consumer, a project outside
# the reactor that uses loglinear-platform by its coordinates, as an application would.
# Cache-friendly: Maven's ~/.m2 and the CMake build under presets/target/ are reused.
set -euo pipefail
cd "$(dirname "$0")/.."

# Totals of the Surefire reports of each module that ran tests.
summarize() {
    local modules
    modules=$(find . -path ./build\* -prune -o -type d -name surefire-reports -print | sort |
              sed 's|/target/surefire-reports$||')
    # shellcheck disable=SC2086  # one module directory per word
    bash ci/surefire-totals.sh test-java $modules
}
trap summarize EXIT

mvn -B -q install
(cd tests/java-consumer && mvn -B -q test)
echo "test-java: reactor installed and tested; java-consumer passed"
