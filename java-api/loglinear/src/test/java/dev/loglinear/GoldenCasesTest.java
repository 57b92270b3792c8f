package dev.loglinear;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every golden case through the Java API, at float64 (1e-10) and float32 (1e-5): output,
 * all gradients and, where the case has one, the state at {@code state_position}, the
 * continuation from it, the backward after it, and the backward of the tokens before it given the
 * gradient of the state.
 */
class GoldenCasesTest {
    static Stream<Arguments> cases() {
        return GoldenCase.all().stream()
                .flatMap(c -> Stream.of(Arguments.of(c, Precision.F64), Arguments.of(c, Precision.F32)));
    }

    static Stream<Arguments> stateCases() {
        return cases().filter(a -> ((GoldenCase) a.get()[0]).statePosition != null);
    }

    static AttentionInputs inputs(GoldenCase c, Precision p) {
        AttentionInputs in = AttentionInputs.of(c.shape(), p.tensor(c.array("q")), p.tensor(c.array("k")),
                p.tensor(c.array("v")), p.tensor(c.array("g")), p.tensor(c.array("l")));
        return c.has("beta") ? in.withBeta(p.tensor(c.array("beta"))) : in;
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("cases")
    void forwardAndBackwardMatchGolden(GoldenCase c, Precision p) {
        LogLinear lla = LogLinear.create(c.config());
        AttentionInputs in = inputs(c, p);
        if (c.variant == Variant.GATED_DELTANET && gatedDeltaNetUnsupported(lla, in)) {
            return;
        }
        Errors.assertClose(c + " o", lla.forward(in), c.array("o").data(), p.tolerance);

        Gradients grads = lla.backward(in, p.tensor(c.array("do")));
        Errors.assertClose(c + " dq", grads.dq(), c.array("dq").data(), p.tolerance);
        Errors.assertClose(c + " dk", grads.dk(), c.array("dk").data(), p.tolerance);
        Errors.assertClose(c + " dv", grads.dv(), c.array("dv").data(), p.tolerance);
        Errors.assertClose(c + " dg", grads.dg(), c.array("dg").data(), p.tolerance);
        Errors.assertClose(c + " dl", grads.dl(), c.array("dl").data(), p.tolerance);
        assertThat(grads.dbeta().isPresent()).as("dbeta present").isEqualTo(c.has("dbeta"));
        if (c.has("dbeta")) {
            Errors.assertClose(c + " dbeta", grads.dbeta().orElseThrow(), c.array("dbeta").data(), p.tolerance);
        }
    }

    @ParameterizedTest(name = "{0} {1}")
    @MethodSource("stateCases")
    void stateAtPositionContinuationAndBackwardAfterIt(GoldenCase c, Precision p) {
        LogLinear lla = LogLinear.create(c.config());
        AttentionInputs all = inputs(c, p);
        if (c.variant == Variant.GATED_DELTANET && gatedDeltaNetUnsupported(lla, all)) {
            return;
        }
        long n = c.statePosition;
        long t = all.shape().length();
        AttentionInputs head = window(all, 0, n);
        AttentionInputs tail = window(all, n, t);

        State state = lla.forward(head, null, true).finalState().orElseThrow();
        assertThat(state.positionArray()).containsOnly(n);
        assertStateMatchesGolden(c, state, p.tolerance);

        // Continuing from the state gives the golden output of the remaining tokens ...
        Tensor goldenO = Tensor.of(c.array("o").data(), c.array("o").shape());
        Errors.assertClose(c + " o[" + n + ":]", lla.forward(tail, state, false).output(),
                goldenO.slice(1, n, t).toDoubleArray(), p.tolerance);

        // ... and the backward from it their golden gradients.
        Tensor dO = p.tensor(c.array("do")).slice(1, n, t);
        Gradients grads = lla.backward(tail, state, dO);
        for (String name : new String[] {"dq", "dk", "dv", "dg", "dl"}) {
            Tensor golden = Tensor.of(c.array(name).data(), c.array(name).shape()).slice(1, n, t);
            Tensor actual = gradient(grads, name);
            Errors.assertClose(c + " " + name + "[" + n + ":] after the state", actual, golden.toDoubleArray(),
                    p.tolerance);
        }

        // The gradient of the state, handed back to the first tokens' backward, gives theirs.
        Gradients before = lla.backward(head, null, p.tensor(c.array("do")).slice(1, 0, n),
                grads.dInitialState().orElseThrow());
        for (String name : new String[] {"dq", "dk", "dv", "dg", "dl"}) {
            Tensor golden = Tensor.of(c.array(name).data(), c.array(name).shape()).slice(1, 0, n);
            Tensor actual = gradient(before, name);
            Errors.assertClose(c + " " + name + "[:" + n + "] through dInitialState", actual, golden.toDoubleArray(),
                    p.tolerance);
        }
    }

    /** The gradient named {@code name} (dq, dk, dv, dg, dl) of {@code g}. */
    static Tensor gradient(Gradients g, String name) {
        return switch (name) {
            case "dq" -> g.dq();
            case "dk" -> g.dk();
            case "dv" -> g.dv();
            case "dg" -> g.dg();
            case "dl" -> g.dl();
            default -> throw new IllegalArgumentException("no gradient " + name);
        };
    }

    /** The inputs of tokens {@code [from, to)}: views of the same arrays, no copies. */
    static AttentionInputs window(AttentionInputs in, long from, long to) {
        AttentionShape shape = in.shape().withLength(to - from);
        AttentionInputs w = AttentionInputs.of(shape, in.q().slice(1, from, to), in.k().slice(1, from, to),
                in.v().slice(1, from, to), in.g().slice(1, from, to), in.l().slice(1, from, to));
        return in.beta().isPresent() ? w.withBeta(in.beta().get().slice(1, from, to)) : w;
    }

    /** Golden levels where the golden state has them; zero above. */
    static void assertStateMatchesGolden(GoldenCase c, State state, double tolerance) {
        NpyFile golden = c.array("state");
        long goldenLevels = golden.shape()[2];
        assertThat(state.stateLevels()).isGreaterThanOrEqualTo(goldenLevels);
        Errors.assertClose(c + " state", state.levels().slice(2, 0, goldenLevels), golden.data(), tolerance);
        double[] above = state.levels().slice(2, goldenLevels, state.stateLevels()).toDoubleArray();
        assertThat(java.util.Arrays.stream(above).allMatch(x -> x == 0.0))
                .as("%s state levels above bit_length(n) are zero", c).isTrue();
    }

    /**
     * While the native library computes only Mamba-2, a Gated DeltaNet call must fail with the
     * documented {@link UnsupportedException}, naming the variant; returns whether it did (when it
     * runs instead, the caller checks its results against the golden ones).
     */
    static boolean gatedDeltaNetUnsupported(LogLinear lla, AttentionInputs in) {
        try {
            lla.forward(in);
            return false;
        } catch (UnsupportedException e) {
            assertThat(e.status()).isEqualTo(Status.UNSUPPORTED);
            assertThat(e).hasMessageContaining("LLA_VARIANT_GATED_DELTANET");
            return true;
        }
    }
}
