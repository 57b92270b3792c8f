package dev.loglinear.cli.compute;

import static org.assertj.core.api.Assertions.assertThat;

import dev.loglinear.cli.ConsoleCapture;
import dev.loglinear.cli.GoldenData;
import dev.loglinear.cli.Lla;
import dev.loglinear.cli.io.GoldenCase;
import dev.loglinear.cli.io.Npy;
import dev.loglinear.cli.io.NpyArray;
import dev.loglinear.cli.reference.Errors;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Map;
import java.util.stream.Stream;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * {@code lla compute} reproduces every golden Mamba-2 case within the tolerances of
 * docs/numerics.md: outputs, all gradients and states, at f64 and f32 against the golden files,
 * and at bf16 against a float64
 * run on the same bf16-rounded inputs; and with {@code --split-at N} (two calls chained through
 * the state, forward and backward) at f64 and f32 against the same golden files. The files it
 * writes are read back and judged here, not only its own verdict.
 */
class ComputeGoldenTest {
    private static final List<String> OUTPUTS = List.of("o", "dq", "dk", "dv", "dg", "dl");
    /** The golden Mamba-2 case that packs sequences with cu_seqlens. */
    private static final String PACKED = "m2_varlen";

    @TempDir
    Path tmp;

    static Stream<Arguments> m2CasesAndPrecisions() {
        return GoldenData.cases("m2_").stream()
                .flatMap(dir -> Stream.of(ComputeDType.values()).map(d -> Arguments.of(dir.getFileName().toString(), d)));
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("m2CasesAndPrecisions")
    void reproducesGoldenCase(String name, ComputeDType precision) throws IOException {
        Path dir = GoldenData.root().resolve(name);
        GoldenCase c = GoldenCase.load(dir);
        Path out = tmp.resolve("out");
        ConsoleCapture.Run run = ConsoleCapture.lla("compute", "--case", dir.toString(), "--out", out.toString(),
                "--dtype", precision.label(), "--compare");
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();

        Path reference = precision == ComputeDType.BF16 ? float64OnRoundedInputs(c, precision) : dir;
        for (String output : OUTPUTS) {
            NpyArray got = Npy.read(out.resolve(output + ".npy"));
            NpyArray ref = Npy.read(reference.resolve(output + ".npy"));
            assertThat(got.shape()).as(output).containsExactly(ref.shape());
            assertThat(Errors.relative(got.data(), ref.data())).as(name + " " + output)
                    .isLessThanOrEqualTo(precision.tolerance());
        }
        if (c.statePosition() != null) {
            assertStateMatches(Npy.read(out.resolve("state.npy")), Npy.read(reference.resolve("state.npy")),
                    precision.tolerance());
        }
    }

    /**
     * Every Mamba-2 case of batch rows (all but the packed m2_varlen) at f64 and f32, split at
     * {@code T / 2} and at 1 (for m2_t1, T = 1, these are the ends 0 and T: the one-call run).
     */
    static Stream<Arguments> m2SplitsAndPrecisions() {
        return GoldenData.cases("m2_").stream()
                .filter(dir -> !dir.getFileName().toString().equals(PACKED))
                .flatMap(dir -> {
                    long t = tokens(dir);
                    return Stream.of(t / 2, 1L).distinct().flatMap(n -> Stream.of(ComputeDType.F64, ComputeDType.F32)
                            .map(d -> Arguments.of(dir.getFileName().toString(), n, d)));
                });
    }

    @ParameterizedTest(name = "{0} --split-at {1} {2}")
    @MethodSource("m2SplitsAndPrecisions")
    void chainedThroughTheStateReproducesGoldenCase(String name, long n, ComputeDType precision) throws IOException {
        Path dir = GoldenData.root().resolve(name);
        Path out = tmp.resolve("out");
        ConsoleCapture.Run run = ConsoleCapture.lla("compute", "--case", dir.toString(), "--out", out.toString(),
                "--dtype", precision.label(), "--split-at", Long.toString(n), "--compare");
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        long t = tokens(dir);
        assertThat(run.out()).contains(n == 0 || n == t ? "this is the one-call run" : "chained through the state")
                .contains("lla compute: ok").doesNotContain("FAILED");
        for (String output : OUTPUTS) {
            NpyArray got = Npy.read(out.resolve(output + ".npy"));
            NpyArray ref = Npy.read(dir.resolve(output + ".npy"));
            assertThat(got.shape()).as(output).containsExactly(ref.shape());
            assertThat(Errors.relative(got.data(), ref.data())).as(name + " --split-at " + n + " " + output)
                    .isLessThanOrEqualTo(precision.tolerance());
        }
    }

    @Test
    void splitAtIsRefusedForPackedSequencesAndOutsideTheCase() {
        Path packed = GoldenData.root().resolve(PACKED);
        Path out = tmp.resolve("out");
        ConsoleCapture.Run run = ConsoleCapture.lla("compute", "--case", packed.toString(), "--out", out.toString(),
                "--split-at", "100");
        assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(Lla.EXIT_ERROR);
        assertThat(run.err()).contains("--split-at", PACKED, "packs sequences (cu_seqlens)");
        assertThat(Files.exists(out)).as("nothing written").isFalse();

        Path t7 = GoldenData.root().resolve("m2_t7");
        for (String bad : new String[] {"8", "-1"}) {
            run = ConsoleCapture.lla("compute", "--case", t7.toString(), "--out", out.toString(), "--split-at", bad);
            assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(Lla.EXIT_ERROR);
            assertThat(run.err()).contains("--split-at: expected a token in 0..7", "got " + bad);
            assertThat(Files.exists(out)).as("nothing written").isFalse();
        }
    }

    private static long tokens(Path dir) {
        try {
            return GoldenCase.load(dir).shape("q")[1];
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** Runs {@code lla compute --dtype f64} on a copy of the case whose inputs are rounded to {@code precision}. */
    private Path float64OnRoundedInputs(GoldenCase c, ComputeDType precision) throws IOException {
        Path rounded = tmp.resolve("rounded-case");
        Files.createDirectories(rounded);
        Files.copy(c.dir().resolve("case.json"), rounded.resolve("case.json"));
        for (Map.Entry<String, double[]> e : Comparison.roundedInputs(c, precision).entrySet()) {
            Npy.write(rounded.resolve(e.getKey() + ".npy"), new NpyArray(c.read(e.getKey()).shape(), e.getValue()));
        }
        Path out = tmp.resolve("rounded-out");
        ConsoleCapture.Run run = ConsoleCapture.lla("compute", "--case", rounded.toString(), "--out", out.toString(),
                "--dtype", "f64");
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        return out;
    }

    /** The levels the golden state has agree; any further level is exactly zero. */
    private static void assertStateMatches(NpyArray got, NpyArray golden, double tolerance) {
        long[] g = got.shape(), r = golden.shape();
        assertThat(g[2]).isGreaterThanOrEqualTo(r[2]);
        int perLevel = (int) (g[3] * g[4]);
        double diff = 0, norm = 0, extra = 0;
        for (int bh = 0; bh < g[0] * g[1]; bh++) {
            for (int lev = 0; lev < g[2]; lev++) {
                for (int i = 0; i < perLevel; i++) {
                    double x = got.data()[(int) ((bh * g[2] + lev) * perLevel + i)];
                    if (lev < r[2]) {
                        double y = golden.data()[(int) ((bh * r[2] + lev) * perLevel + i)];
                        diff += (x - y) * (x - y);
                        norm += y * y;
                    } else {
                        extra = Math.max(extra, Math.abs(x));
                    }
                }
            }
        }
        assertThat(Math.sqrt(diff / norm)).as("state").isLessThanOrEqualTo(tolerance);
        assertThat(extra).as("state levels beyond the golden's").isZero();
    }
}
