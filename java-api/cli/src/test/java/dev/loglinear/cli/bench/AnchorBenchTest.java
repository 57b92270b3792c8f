package dev.loglinear.cli.bench;

import static org.assertj.core.api.Assertions.assertThat;

import dev.loglinear.Backend;
import dev.loglinear.Device;
import dev.loglinear.LogLinear;
import dev.loglinear.LogLinearConfig;
import java.awt.image.BufferedImage;
import java.io.IOException;
import java.nio.file.Path;
import javax.imageio.ImageIO;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

/**
 * The measurement behind {@code lla bench --backend cuda}, run here on the CPU at a short anchor
 * of the same widths (the GPU run is bench/run-java-cuda.sh): every time is positive, the check
 * passes at the bf16 tolerance, and the chart of two engines is written.
 */
class AnchorBenchTest {
    @TempDir
    Path tmp;

    @Test
    void measuresChecksAndDraws() throws IOException {
        double scale = 1 / Math.sqrt(Anchor.KEY_DIM);
        LogLinear cpu = LogLinear.create(LogLinearConfig.builder().backend(Backend.CPU).scale(scale).build());
        // Two rows of 130 tokens: three chunks, the check's prefix shorter than 1024.
        Anchor small = new Anchor(2, 130, 1, 1, 1, 1);
        AnchorBench.Result r = new AnchorBench(cpu, cpu, Device.CPU, 0, 1, 2, 7).run(small);
        assertThat(r.forwardMs()).isPositive();
        assertThat(r.backwardMs()).isPositive();
        assertThat(r.forwardBackwardMs()).isPositive();
        assertThat(r.copyInMs()).isPositive();
        assertThat(r.memoryBytes()).as("inputs, outputs, gradients and workspace").isGreaterThan(2L * 2 * 130 * 32 * 64 * 2);
        assertThat(r.backwardTflops()).isPositive();
        assertThat(r.checkError()).isLessThan(1e-2);
        assertThat(r.checkPassed()).isTrue();

        AnchorChart chart = new AnchorChart("title", "subtitle");
        chart.add("cpu", r);
        chart.add("cuda:0", new AnchorBench.Result(small, 1, 0.5, 1.5, 2, 1 << 20, 0));
        Path png = tmp.resolve("anchors.png");
        chart.writePng(png, 640, 400);
        BufferedImage image = ImageIO.read(png.toFile());
        assertThat(image.getWidth()).isEqualTo(640);
    }

    @Test
    void theBackwardFlopModelIsTheNativeBenchs() {
        // 1 x 64: one chunk (index 0, no inter-chunk level): 64 tokens x 32 heads x
        // (2*64*(3*128 + 2*64) + 3 * 2*128*64).
        assertThat(new Anchor(1, 64, 1, 1, 1, 1).backwardFlop()).isEqualTo(64.0 * 32 * (2 * 64 * 512 + 6 * 128 * 64));
        assertThat(Anchor.ALL).extracting(Anchor::label)
                .containsExactly("16 x 4096", "4 x 16384", "1 x 65536", "1 x 16384");
    }
}
