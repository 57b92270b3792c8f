#!/usr/bin/env bash
# The Java API on the GPU (a device run; stage first with bench/stage-java-cuda.sh):
#   bash bench/run-java-cuda.sh [JAVA_DIR]     (default .device/java)
# 1. the dev.loglinear test suite through JUnit's console launcher, against the
#    linux-x86_64-cuda build (the Cuda* tests run instead of skipping);
# 2. lla compute --backend cuda --compare on every golden M2 case (forward,
#    gradients, state), float32 exact and bf16;
# 3. lla bench --backend cuda --with-cpu --plot (the anchor shapes, checked).
# Logs, JUnit reports and the chart go to $OUT (the device run's output folder)
# or .device/out. Exit status: 0 when every part passed.
set -uo pipefail
cd "$(dirname "$0")/.."
dir=$(realpath "${1:-.device/java}")
out=${OUT:-$PWD/.device/out}
mkdir -p "$out"
rt=$(mktemp -d)
tar -C "$rt" -xJf "$dir/runtime.tar.xz"
java=$rt/runtime/bin/java
# The font libraries and font that bench/stage-java-cuda.sh packed (for charts).
export LD_LIBRARY_PATH="$rt/runtime/lib/extra${LD_LIBRARY_PATH:+:$LD_LIBRARY_PATH}"
export FONTCONFIG_FILE=$rt/runtime/lib/fonts/fonts.conf
golden=$PWD/tests/data/golden
status=0

echo "== Java: $("$java" -version 2>&1 | head -n1), $(ls "$dir"/lib/loglinear-presets-*cuda.jar | xargs -n1 basename)"
classpath=$(ls "$dir"/lib/*.jar "$dir"/test/assertj-core-*.jar | tr '\n' ':')$dir/test/classes
echo "== Java API tests (JUnit console launcher)"
# The heap is fixed as in the pom: MemoryReleaseTest reads the resident set.
# From the module's folder, where its tests find their files (as under Maven).
# The classpath goes to the JVM (not the launcher's --class-path): PackageExampleTest compiles
# against java.class.path.
(cd java-api/loglinear && timeout 420 "$java" -Xms256m -Xmx256m -XX:+AlwaysPreTouch -Dlla.golden.dir="$golden" \
    -cp "$(ls "$dir"/test/junit-platform-console-standalone-*.jar):$classpath" \
    org.junit.platform.console.ConsoleLauncher execute --scan-class-path "$dir/test/classes" \
    --details=tree --disable-banner --disable-ansi-colors --reports-dir "$out/junit") > "$out/java-tests.log" 2>&1
rc=$?
grep -E "tests (successful|failed|skipped|aborted|found)|✘|\[X\]|Cuda|Gpu|■" "$out/java-tests.log" | head -80
[[ $rc -eq 0 ]] || { echo "Java API tests: FAILED (rc $rc)"; tail -60 "$out/java-tests.log"; status=1; }

lla() { timeout 420 "$java" -Xmx32g -jar "$dir/lla-cli.jar" "$@"; }
echo "== lla compute --backend cuda --compare, every golden M2 case"
work=$(mktemp -d)
for case_dir in "$golden"/m2_*; do
    case=$(basename "$case_dir")
    for dtype in f32 bf16; do
        if lla compute --backend cuda --dtype "$dtype" --compare --case "$case_dir" --out "$work/$case-$dtype" \
                > "$work/$case-$dtype.log" 2>&1; then
            echo "compute $case $dtype: ok"
        else
            echo "compute $case $dtype: FAILED"; tail -20 "$work/$case-$dtype.log"; status=1
        fi
    done
done
cp "$work"/*.log "$out/" 2>/dev/null
rm -rf "$work"

echo "== lla demo --backend cuda"
lla demo --backend cuda > "$out/demo.log" 2>&1 || { echo "demo: FAILED"; status=1; }
tail -25 "$out/demo.log"

echo "== lla bench --backend cuda --with-cpu --plot"
lla bench --backend cuda --with-cpu --plot "$out/bench-cpu-cuda.png" 2>&1 | tee "$out/java-bench.log"
[[ ${PIPESTATUS[0]} -eq 0 ]] || status=1
rm -rf "$rt"
exit $status
