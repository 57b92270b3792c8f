package dev.loglinear.cli.readme;

import static org.assertj.core.api.Assertions.assertThat;

import dev.loglinear.AttentionInputs;
import dev.loglinear.AttentionShape;
import dev.loglinear.DType;
import dev.loglinear.DecodeState;
import dev.loglinear.ForwardResult;
import dev.loglinear.Gradients;
import dev.loglinear.LogLinear;
import dev.loglinear.LogLinearConfig;
import dev.loglinear.State;
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
 * The Java examples of README.md, docs/state-layout.md and docs/training-in-segments.md, compiled
 * and run: the lines between each pair of markers below ({@code README}, {@code STATE},
 * {@code SEGMENTS}) must stand in that document, word for word (indentation aside), so the
 * documents cannot drift from the API. The segments example is also checked: its gradients are
 * those of one call over the whole sequence.
 */
class DocExamplesTest {
    private static final int B = 1, T = 4096, H = 8, G = 1, K = 64, V = 64;

    /** Inputs for the examples: B, T, H, G, K, V as the documents use them. */
    private final Random r = new Random(3);
    private final int levels = (int) AttentionShape.minLevels(T);
    private final float[] q = random(r, B * T * G * K, 0.125), k = random(r, B * T * G * K, 0.125);
    private final float[] v = random(r, B * T * H * V, 1), dO = random(r, B * T * H * V, 1);
    private final float[] g = filled(B * T * H, -0.05f), l = filled(B * T * H * levels, 1f);
    private final AttentionInputs token = AttentionInputs.of(AttentionShape.token(B, H, G, K, V, 21),
            random(r, B * G * K, 0.125), random(r, B * G * K, 0.125), random(r, B * H * V, 1), new float[B * H],
            filled(B * H * 21, 1f));

    @Test
    void readmeExampleRunsAgainstTheRealApi() {
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
    void stateLayoutExampleRunsAgainstTheRealApi() {
        LogLinear lla = LogLinear.create(LogLinearConfig.builder().scale(1.0 / Math.sqrt(64)).build());
        AttentionInputs in = AttentionInputs.of(AttentionShape.of(1, 4096, 8, 1, 64, 64), q, k, v, g, l);
        Tensor stepped;
        State exported;
        // STATE:begin
        State saved = State.zeros(1, 8, 21, 64, 64, DType.FLOAT32);     // canonical, 21 levels: up to 2^20 tokens
        lla.forwardInto(in, null, Tensor.zeros(DType.FLOAT32, in.shape().valueShape()), saved);  // the prompt
        long[] positions = saved.positionArray();                        // tokens seen, per sequence
        try (DecodeState state = lla.newDecodeState(1, 8, 21, 64, 64, DType.FLOAT32)) {
            state.importState(saved);                                    // same N, H, Ls, K, V
            Tensor o = state.step(token);                                // continues at positions[0]
            State now = state.exportState();                             // canonical again
        // STATE:end
            stepped = o;
            exported = now;
        }
        assertThat(positions).containsExactly(4096);
        assertThat(exported.positionArray()).containsExactly(4097);
        assertThat(stepped.shape()).containsExactly(1, 8, 64);
    }

    @Test
    void segmentsExampleRunsAgainstTheRealApi() {
        LogLinear lla = LogLinear.create(LogLinearConfig.builder().scale(1.0 / Math.sqrt(64)).build());
        AttentionInputs in = AttentionInputs.of(AttentionShape.of(1, 4096, 8, 1, 64, 64), q, k, v, g, l);
        Tensor dOut = Tensor.of(this.dO, in.shape().valueShape());
        // The sequence as 4 segments of 1024 tokens (views of the same arrays).
        AttentionInputs[] segment = new AttentionInputs[4];
        Tensor[] dO = new Tensor[4];
        for (int i = 0; i < 4; i++) {
            long from = 1024L * i, to = from + 1024;
            segment[i] = AttentionInputs.of(in.shape().withLength(1024), in.q().slice(1, from, to),
                    in.k().slice(1, from, to), in.v().slice(1, from, to), in.g().slice(1, from, to),
                    in.l().slice(1, from, to));
            dO[i] = dOut.slice(1, from, to);
        }
        // SEGMENTS:begin
        int P = segment.length;                              // segment[i]: the inputs of segment i
        State[] start = new State[P];                        // start[i]: the state segment i continues from
        Tensor[] o = new Tensor[P];
        for (int i = 0; i < P; i++) {                        // forward, in order, keeping the states
            ForwardResult r = lla.forward(segment[i], start[i], i + 1 < P);
            o[i] = r.output();
            if (i + 1 < P) start[i + 1] = r.finalState().orElseThrow();
        }
        // ... the loss, and from it dO[i] = dLoss/do[i] for every segment ...
        Gradients[] grads = new Gradients[P];
        Tensor dState = null;                                // nothing reads the last segment's final state
        for (int i = P - 1; i >= 0; i--) {                   // backward, in reverse
            grads[i] = lla.backward(segment[i], start[i], dO[i], dState);
            dState = grads[i].dInitialState().orElse(null);  // dLoss/dstart[i], for segment i - 1
        }
        // SEGMENTS:end

        // The same gradients, token by token, as one call over the whole sequence.
        Gradients whole = lla.backward(in, dOut);
        assertThat(start[0]).isNull();
        assertThat(start[3].positionArray()).containsExactly(3072);
        assertThat(grads[0].dInitialState()).isEmpty();
        for (int i = 0; i < P; i++) {
            long from = 1024L * i, to = from + 1024;
            assertClose(grads[i].dq(), whole.dq().slice(1, from, to));
            assertClose(grads[i].dk(), whole.dk().slice(1, from, to));
            assertClose(grads[i].dv(), whole.dv().slice(1, from, to));
            assertClose(grads[i].dg(), whole.dg().slice(1, from, to));
            assertClose(grads[i].dl(), whole.dl().slice(1, from, to));
            assertClose(o[i], lla.forward(in).slice(1, from, to));
        }
    }

    @Test
    void readmeShowsExactlyItsExample() throws IOException {
        assertThat(Files.readString(Path.of(System.getProperty("lla.readme")))).contains(marked("README"));
    }

    @Test
    void stateLayoutShowsExactlyItsExample() throws IOException {
        String doc = Files.readString(Path.of(System.getProperty("lla.docs"), "state-layout.md"));
        // The document indents its block by two spaces (inside a list item) and closes the try.
        String expected = marked("STATE").lines().map(line -> "  " + line).collect(Collectors.joining("\n"));
        assertThat(doc).contains(expected + "\n  }");
    }

    @Test
    void trainingInSegmentsShowsExactlyItsExample() throws IOException {
        String doc = Files.readString(Path.of(System.getProperty("lla.docs"), "training-in-segments.md"));
        String fromJava = doc.substring(doc.indexOf("## From Java"));
        assertThat(fromJava).as("the example under ## From Java, as a java block")
                .contains("```java\n" + marked("SEGMENTS") + "\n```");
        assertThat(doc).doesNotContain("<!-- java example -->");
    }

    /** The relative Frobenius error of {@code actual} against {@code expected} is within float32 rounding. */
    private static void assertClose(Tensor actual, Tensor expected) {
        double[] a = actual.toDoubleArray(), e = expected.toDoubleArray();
        double diff = 0, norm = 0;
        for (int i = 0; i < a.length; i++) {
            diff += (a[i] - e[i]) * (a[i] - e[i]);
            norm += e[i] * e[i];
        }
        assertThat(Math.sqrt(diff / norm)).isLessThanOrEqualTo(1e-5);
    }

    /** The lines between the {@code NAME:begin} and {@code NAME:end} markers of this file, less 8 spaces. */
    private static String marked(String name) throws IOException {
        Path source = Path.of(System.getProperty("lla.test.sources"), "dev/loglinear/cli/readme/DocExamplesTest.java");
        List<String> lines = Files.readAllLines(source);
        int begin = lines.indexOf("        // " + name + ":begin"), end = lines.indexOf("        // " + name + ":end");
        assertThat(begin).as(name + " markers").isNotNegative().isLessThan(end);
        return lines.subList(begin + 1, end).stream()
                .map(line -> line.length() >= 8 ? line.substring(8) : line.strip())
                .collect(Collectors.joining("\n"));
    }

    private static float[] filled(int n, float value) {
        float[] a = new float[n];
        Arrays.fill(a, value);
        return a;
    }

    private static float[] random(Random r, int n, double std) {
        float[] a = new float[n];
        for (int i = 0; i < n; i++) {
            a[i] = (float) (r.nextGaussian() * std);
        }
        return a;
    }
}
