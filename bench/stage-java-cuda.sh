#!/usr/bin/env bash
# Stages what the Java API needs to run on a GPU machine that has no Java and
# no network, into the git-ignored .device/java/:
#   runtime.tar.xz   a Java runtime made here with jlink (the modules the API,
#                    the CLI and JUnit use)
#   lla-cli.jar, lib/  the CLI and its runtime classpath: the dev.loglinear
#                    API, the presets jar with its linux-x86_64-cuda classifier
#                    (libloglinear built with -DLLA_CUDA=ON), JavaCPP, picocli,
#                    JFreeChart
#   test/            the API's compiled tests, AssertJ, and JUnit's console
#                    launcher (junit-platform-console-standalone)
# Then a device run carries .device and executes bench/run-java-cuda.sh.
#   bash bench/stage-java-cuda.sh [CUDA_BUILD_DIR]   (default build-cuda, from ci/build-cuda.sh)
set -euo pipefail
cd "$(dirname "$0")/.."
build=${1:-build-cuda}
dest=.device/java
if ! grep -q "^LLA_CUDA:BOOL=ON" "$build/CMakeCache.txt" 2>/dev/null; then
    echo "stage-java-cuda: $build is not a -DLLA_CUDA=ON build (run ci/build-cuda.sh first)" >&2
    exit 1
fi

# The linux-x86_64-cuda classifier packs the CUDA build as it is (cppbuild.sh,
# LLA_CPPBUILD_FROM), then the API and the CLI are built against it.
export LLA_CPPBUILD_FROM=$PWD/$build
mvn -B -q package -DskipTests -Djavacpp.platform.extension=-cuda -pl java-api/cli -am
junit=$(sed -n 's:.*<junit.version>\(.*\)</junit.version>.*:\1:p' pom.xml)
assertj=$(sed -n 's:.*<assertj.version>\(.*\)</assertj.version>.*:\1:p' pom.xml)
# JUnit 5.x's platform artifacts are numbered 1.x.
console=1.${junit#5.}
mvn -B -q dependency:get -Dartifact="org.junit.platform:junit-platform-console-standalone:$console" >/dev/null
mvn -B -q dependency:get -Dartifact="org.assertj:assertj-core:$assertj" >/dev/null
# (help:evaluate wraps its answer in colour codes, even with -B)
repo=$(mvn -B -q help:evaluate -Dexpression=settings.localRepository -DforceStdout | sed "s/\x1b\[[0-9;]*m//g")

rm -rf "$dest"
mkdir -p "$dest/lib" "$dest/test"
cp java-api/cli/target/lla-cli.jar "$dest/"   # its manifest names lib/*.jar
cp java-api/cli/target/lib/*.jar "$dest/lib/"
# Only the CUDA classifier: the loader must not find a CPU-only libloglinear first.
rm -f "$dest"/lib/loglinear-presets-*-linux-x86_64.jar
ls "$dest"/lib/loglinear-presets-*-linux-x86_64-cuda.jar >/dev/null
cp -r java-api/loglinear/target/test-classes "$dest/test/classes"
cp "$repo/org/junit/platform/junit-platform-console-standalone/$console/junit-platform-console-standalone-$console.jar" \
    "$repo/org/assertj/assertj-core/$assertj/assertj-core-$assertj.jar" "$dest/test/"

# java.desktop: JFreeChart (lla bench --plot); java.logging, java.management:
# JUnit's launcher; java.compiler, jdk.compiler: PackageExampleTest compiles the
# package documentation's example (jdk.zipfs: javac reading jars); jdk.unsupported: JavaCPP.
modules=java.base,java.compiler,java.desktop,java.logging,java.management,java.naming,java.xml,jdk.compiler,jdk.unsupported,jdk.zipfs
runtime=$(mktemp -d)
jlink --add-modules "$modules" --strip-debug --no-header-files --no-man-pages --output "$runtime/runtime"
# Text in charts: the JDK's font code needs FreeType, HarfBuzz and fontconfig, and a font;
# a GPU machine may have none of them. Carried in runtime/lib/extra and lib/fonts, found
# through LD_LIBRARY_PATH and FONTCONFIG_FILE (bench/run-java-cuda.sh sets both).
mkdir -p "$runtime/runtime/lib/extra" "$runtime/runtime/lib/fonts"
for lib in libfontconfig.so.1 libfreetype.so.6 libharfbuzz.so.0 libgraphite2.so.3 libglib-2.0.so.0 \
        libpng16.so.16 libbrotlidec.so.1 libbrotlicommon.so.1 libpcre2-8.so.0 libexpat.so.1; do
    cp -L "$(ldconfig -p | awk -v l="$lib" '$1 == l && /x86-64/ {print $NF; exit}')" "$runtime/runtime/lib/extra/"
done
cp /usr/share/fonts/truetype/dejavu/DejaVuSans.ttf /usr/share/fonts/truetype/dejavu/DejaVuSans-Bold.ttf \
    "$runtime/runtime/lib/fonts/"
cat > "$runtime/runtime/lib/fonts/fonts.conf" <<'CONF'
<?xml version="1.0"?>
<!DOCTYPE fontconfig SYSTEM "fonts.dtd">
<fontconfig>
  <dir prefix="relative">.</dir>
  <cachedir>/tmp/lla-fontconfig-cache</cachedir>
</fontconfig>
CONF
tar -C "$runtime" -cJf "$dest/runtime.tar.xz" runtime
rm -rf "$runtime"
du -sh "$dest" "$dest"/* | sort -k2
