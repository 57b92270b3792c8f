package dev.loglinear;

import static org.assertj.core.api.Assertions.assertThat;

import java.util.stream.Stream;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

/**
 * Every golden Mamba-2 case on the GPU through the Java API, with inputs, outputs, states and
 * gradients in CUDA memory: float32 (exact-fp32 math) within 1e-5 of the golden float64 results,
 * {@code dg} within the CUDA backward's documented bound (docs/numerics.md, "Tolerances"); the
 * state at {@code state_position}, the continuation from it and the backward through its
 * gradient. Skipped without a GPU.
 */
class CudaGoldenCasesTest {
    static final double TOLERANCE = Precision.F32.tolerance;
    /** dg of the CUDA backward: 2x the tolerance up to 16 chunks of 64 tokens (the golden cases). */
    static final double DG_TOLERANCE = 2 * TOLERANCE;

    static Stream<GoldenCase> cases() {
        return GoldenCase.all().stream().filter(c -> c.variant == Variant.MAMBA2);
    }

    static Stream<GoldenCase> stateCases() {
        return cases().filter(c -> c.statePosition != null);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("cases")
    void forwardAndBackwardOnTheGpuMatchGolden(GoldenCase c) {
        Gpu.assume();
        LogLinear lla = LogLinear.create(Gpu.exact(c.config()));
        AttentionInputs in = Gpu.onGpu(GoldenCasesTest.inputs(c, Precision.F32));
        try (Tensor dO = Precision.F32.tensor(c.array("do")).to(Gpu.DEVICE);
             Tensor o = lla.forward(in);
             Gradients grads = lla.backward(in, dO)) {
            assertThat(o.device()).isEqualTo(Gpu.DEVICE);
            assertThat(grads.dq().device()).isEqualTo(Gpu.DEVICE);
            Errors.assertClose(c + " o", o, c.array("o").data(), TOLERANCE);
            for (String name : new String[] {"dq", "dk", "dv", "dl"}) {
                Errors.assertClose(c + " " + name, GoldenCasesTest.gradient(grads, name), c.array(name).data(),
                        TOLERANCE);
            }
            Errors.assertClose(c + " dg", grads.dg(), c.array("dg").data(), DG_TOLERANCE);
        } finally {
            Gpu.close(in);
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("stateCases")
    void stateContinuationAndStateGradientOnTheGpu(GoldenCase c) {
        Gpu.assume();
        LogLinear lla = LogLinear.create(Gpu.exact(c.config()));
        AttentionInputs all = Gpu.onGpu(GoldenCasesTest.inputs(c, Precision.F32));
        long n = c.statePosition;
        long t = all.shape().length();
        AttentionInputs head = GoldenCasesTest.window(all, 0, n);
        AttentionInputs tail = GoldenCasesTest.window(all, n, t);
        try (Tensor dO = Precision.F32.tensor(c.array("do")).to(Gpu.DEVICE);
             ForwardResult prefix = lla.forward(head, null, true)) {
            State state = prefix.finalState().orElseThrow();
            assertThat(state.device()).isEqualTo(Gpu.DEVICE);
            assertThat(state.positionArray()).containsOnly(n);
            GoldenCasesTest.assertStateMatchesGolden(c, state, TOLERANCE);

            Tensor goldenO = Tensor.of(c.array("o").data(), c.array("o").shape());
            try (ForwardResult rest = lla.forward(tail, state, false);
                 Gradients after = lla.backward(tail, state, dO.slice(1, n, t));
                 Gradients before = lla.backward(head, null, dO.slice(1, 0, n), after.dInitialState().orElseThrow())) {
                Errors.assertClose(c + " o[" + n + ":]", rest.output(), goldenO.slice(1, n, t).toDoubleArray(),
                        TOLERANCE);
                for (String name : new String[] {"dq", "dk", "dv", "dg", "dl"}) {
                    Tensor golden = Tensor.of(c.array(name).data(), c.array(name).shape());
                    double tol = name.equals("dg") ? DG_TOLERANCE : TOLERANCE;
                    Errors.assertClose(c + " " + name + "[" + n + ":]", GoldenCasesTest.gradient(after, name),
                            golden.slice(1, n, t).toDoubleArray(), tol);
                    Errors.assertClose(c + " " + name + "[:" + n + "] through dInitialState",
                            GoldenCasesTest.gradient(before, name), golden.slice(1, 0, n).toDoubleArray(), tol);
                }
            }
        } finally {
            Gpu.close(all);
        }
    }
}
