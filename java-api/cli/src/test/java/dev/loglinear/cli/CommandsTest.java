package dev.loglinear.cli;

import static org.assertj.core.api.Assertions.assertThat;

import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/** The demo, bench and error paths of the lla command, end to end through picocli. */
class CommandsTest {
    @TempDir
    Path tmp;

    @Test
    void demoPassesEveryCheckOnAShortSequence() {
        ConsoleCapture.Run run = ConsoleCapture.lla("demo", "-T", "3000", "--dim", "16", "--threads", "2",
                "--progress", "never");
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).contains("decode vs chunked forward", "softmax KV cache",
                        "5. Gradients through the state: the 3,000 tokens in 4 segments",
                        "segments: dq, dk, dv, dl of all 3,000 tokens", "segments: dg of all 3,000 tokens",
                        "all 10 checks passed")
                .doesNotContain("FAILED");
    }

    @Test
    void demoRunsInBfloat16WithGroups() {
        ConsoleCapture.Run run = ConsoleCapture.lla("demo", "-T", "1500", "-H", "4", "-G", "2", "--dim", "8",
                "--dtype", "bf16", "--reference-length", "100", "--progress", "never");
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).contains("bf16: o, dq", "checks passed");
    }

    @Test
    void benchPrintsATableAndDrawsAPng() throws IOException {
        Path png = tmp.resolve("bench.png");
        ConsoleCapture.Run run = ConsoleCapture.lla("bench", "-T", "64,256", "-H", "2", "-K", "8", "-V", "8",
                "--repeats", "1", "--warmup", "0", "--decode-steps", "4", "--plot", png.toString());
        assertThat(run.exitCode()).as(run.out() + run.err()).isZero();
        assertThat(run.out()).contains("forward", "decode step").containsPattern("(?m)^\\s+256\\s");
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isEqualTo(960);
        assertThat(image.getHeight()).isEqualTo(600);
    }

    @Test
    void computeExitsWithTwoWhenAResultMissesTheReference() throws IOException {
        // A copy of a golden case whose reference output is off by 1%: the computed o must fail --compare.
        Path dir = tmp.resolve("tampered-case");
        Files.createDirectories(dir);
        Path source = GoldenData.root().resolve("m2_t7");
        try (var files = Files.list(source)) {
            for (Path f : files.toList()) {
                Files.copy(f, dir.resolve(f.getFileName()));
            }
        }
        dev.loglinear.cli.io.NpyArray o = dev.loglinear.cli.io.Npy.read(source.resolve("o.npy"));
        double[] off = o.data().clone();
        for (int i = 0; i < off.length; i++) {
            off[i] *= 1.01;
        }
        dev.loglinear.cli.io.Npy.write(dir.resolve("o.npy"), new dev.loglinear.cli.io.NpyArray(o.shape(), off));
        ConsoleCapture.Run run = ConsoleCapture.lla("compute", "--case", dir.toString(), "--out",
                tmp.resolve("out").toString(), "--compare");
        assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(Lla.EXIT_CHECK_FAILED);
        assertThat(run.out()).containsPattern("reference: o +relative error 9\\.9\\d*e-03 .*FAILED")
                .contains("reference: dq").contains("lla compute: FAILED");
    }

    @Test
    void anUnknownOptionIsAUsageError() {
        ConsoleCapture.Run run = ConsoleCapture.lla("demo", "--no-such-option");
        assertThat(run.exitCode()).isEqualTo(Lla.EXIT_ERROR);
        assertThat(run.err()).contains("Unknown option: '--no-such-option'");
    }

    @Test
    void computeNamesAMissingCaseFolder() {
        Path missing = tmp.resolve("no-such-case");
        ConsoleCapture.Run run = ConsoleCapture.lla("compute", "--case", missing.toString(), "--out",
                tmp.resolve("out").toString());
        assertThat(run.exitCode()).isEqualTo(Lla.EXIT_ERROR);
        assertThat(run.err()).contains("--case", "no-such-case", "no case.json");
    }

    @Test
    void computeRejectsAnUnknownDtype() {
        ConsoleCapture.Run run = ConsoleCapture.lla("compute", "--case", GoldenData.root().resolve("m2_t7").toString(),
                "--out", tmp.resolve("out").toString(), "--dtype", "f16");
        assertThat(run.exitCode()).isEqualTo(Lla.EXIT_ERROR);
        assertThat(run.err()).contains("--dtype must be f64, f32 or bf16, got 'f16'");
        assertThat(Files.exists(tmp.resolve("out"))).isFalse();
    }

    @Test
    void computeReportsALibraryErrorWithItsMessage() throws IOException {
        // l with too few levels for T: the native library rejects it and names the argument.
        Path dir = tmp.resolve("bad-case");
        Files.createDirectories(dir);
        Path source = GoldenData.root().resolve("m2_t7");
        for (String f : new String[] {"q", "k", "v", "g", "do"}) {
            Files.copy(source.resolve(f + ".npy"), dir.resolve(f + ".npy"));
        }
        dev.loglinear.cli.io.Npy.write(dir.resolve("l.npy"),
                new dev.loglinear.cli.io.NpyArray(new long[] {1, 7, 2, 1}, new double[14]));
        com.google.gson.JsonObject json = com.google.gson.JsonParser.parseString(
                Files.readString(source.resolve("case.json"))).getAsJsonObject();
        json.getAsJsonObject("shapes").add("l", com.google.gson.JsonParser.parseString("[1, 7, 2, 1]"));
        Files.writeString(dir.resolve("case.json"), json.toString());
        ConsoleCapture.Run run = ConsoleCapture.lla("compute", "--case", dir.toString(), "--out",
                tmp.resolve("out").toString());
        assertThat(run.exitCode()).as(run.out() + run.err()).isEqualTo(Lla.EXIT_ERROR);
        assertThat(run.err()).contains("InvalidArgumentException").contains("l");
    }

    @Test
    void cudaIsRefusedBeforeAnyWorkWithAReason() {
        ConsoleCapture.Run run = ConsoleCapture.lla("demo", "-T", "16", "--backend", "cuda", "--progress", "never");
        assertThat(run.exitCode()).isEqualTo(Lla.EXIT_ERROR);
        assertThat(run.err()).contains("--backend cuda");
        assertThat(run.out()).doesNotContain("1. Check");
    }
}
