package dev.loglinear.cli.readme;

import static org.assertj.core.api.Assertions.assertThat;

import dev.loglinear.AttentionInputs;
import dev.loglinear.AttentionShape;
import dev.loglinear.DType;
import dev.loglinear.DecodeState;
import dev.loglinear.Gradients;
import dev.loglinear.LogLinear;
import dev.loglinear.LogLinearConfig;
import dev.loglinear.Tensor;
import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Arrays;
import java.util.List;
import java.util.Random;
import java.util.stream.Collectors;
import org.junit.jupiter.api.Test;

/**
 * The Java example of README.md, compiled and run: the lines between the markers below must
 * stand in the README's java block, word for word, so the README cannot drift from the API.
 */
class ReadmeExampleTest {
    private static final int B = 1, T = 4096, H = 8, G = 1, K = 64, V = 64;

    @Test
    void readmeExampleRunsAgainstTheRealApi() {
        Random r = new Random(3);
        int levels = (int) AttentionShape.minLevels(T);
        float[] q = random(r, B * T * G * K, 0.125), k = random(r, B * T * G * K, 0.125);
        float[] v = random(r, B * T * H * V, 1), dO = random(r, B * T * H * V, 1);
        float[] g = new float[B * T * H], l = new float[B * T * H * levels];
        Arrays.fill(g, -0.05f);
        Arrays.fill(l, 1f);
        int stateLevels = 21;
        float[] lToken = new float[B * H * stateLevels];
        Arrays.fill(lToken, 1f);
        AttentionInputs token = AttentionInputs.of(AttentionShape.token(B, H, G, K, V, stateLevels),
                random(r, B * G * K, 0.125), random(r, B * G * K, 0.125), random(r, B * H * V, 1), new float[B * H],
                lToken);

        // README:begin
        LogLinear lla = LogLinear.create(LogLinearConfig.builder().scale(1.0 / Math.sqrt(64)).build());
        AttentionShape shape = AttentionShape.of(1, 4096, 8, 1, 64, 64);   // B, T, H, G, K, V
        AttentionInputs in = AttentionInputs.of(shape, q, k, v, g, l);      // float[] each, row-major

        float[] o = lla.forward(in).toFloatArray();                         // [B, T, H, V]
        Gradients grads = lla.backward(in, Tensor.of(dO));                  // dq, dk, dv, dg, dl

        try (DecodeState state = lla.newDecodeState(1, 8, 21, 64, 64, DType.FLOAT32)) {  // up to 2^20 tokens
            state.prefill(in);                                              // the prompt
            float[] next = state.step(token).toFloatArray();                // one token: [B, H, V]
        }
        // README:end

        assertThat(o).hasSize(B * T * H * V);
        assertThat(grads.dq().shape()).containsExactly(B, T, G, K);
    }

    @Test
    void readmeShowsExactlyTheseLines() throws IOException {
        Path readme = Path.of(System.getProperty("lla.readme"));
        String text = Files.readString(readme);
        assertThat(text).contains(exampleLines());
    }

    /** The example's lines from this file, indentation made relative as in the README. */
    private static String exampleLines() throws IOException {
        Path source = Path.of(System.getProperty("lla.test.sources"),
                "dev/loglinear/cli/readme/ReadmeExampleTest.java");
        List<String> lines = Files.readAllLines(source);
        int begin = lines.indexOf("        // README:begin"), end = lines.indexOf("        // README:end");
        return lines.subList(begin + 1, end).stream()
                .map(line -> line.length() >= 8 ? line.substring(8) : line.strip())
                .collect(Collectors.joining("\n"));
    }

    private static float[] random(Random r, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * std);
        }
        return a;
    }
}
