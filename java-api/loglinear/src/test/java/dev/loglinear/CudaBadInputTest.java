package dev.loglinear;

import static dev.loglinear.BadInputTest.SENTINEL;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.util.Arrays;
import org.junit.jupiter.api.Test;

/**
 * Rejected calls on the GPU: inputs, outputs and states in CUDA memory get the same exception and
 * the same message as on the CPU backend, and no output, gradient or state changes. Skipped
 * without a GPU.
 */
class CudaBadInputTest {
    static final AttentionShape SHAPE = BadInputTest.SHAPE;

    /** A tensor in CUDA memory filled with {@link BadInputTest#SENTINEL}. */
    static Tensor sentinel(long... shape) {
        Tensor t = Tensor.allocate(Gpu.DEVICE, DType.FLOAT32, shape);
        t.copyFrom(BadInputTest.filled((int) Tensor.product(shape)));
        return t;
    }

    static void assertSentinel(String what, Tensor t) {
        assertThat(t.toFloatArray()).as("%s after a rejected call", what).containsOnly(SENTINEL);
    }

    /**
     * Asserts that the forward of {@code in} on the GPU is rejected with the message the CPU
     * backend gives, containing {@code part}, and that the output and final state stay as they were.
     */
    static void assertForwardRejected(AttentionInputs in, State initial, String part) {
        InvalidArgumentException onCpu = catchThrowableOfType(InvalidArgumentException.class,
                () -> BadInputTest.LLA.forward(in, initial, false));
        assertThat(onCpu).as("the CPU backend rejects it").isNotNull();
        LogLinear gpu = LogLinear.create(Gpu.exact(LogLinearConfig.defaults()));
        AttentionInputs d = Gpu.onGpu(in);
        State dInitial = initial == null ? null : initial.to(Gpu.DEVICE);
        AttentionShape s = in.shape();
        try (Tensor o = sentinel(s.valueShape());
             Tensor levels = sentinel(s.numSequences(), s.heads(), 8, s.keyDim(), s.valueDim())) {
            State finalState = State.of(levels, new long[(int) s.numSequences()]);
            InvalidArgumentException e = catchThrowableOfType(InvalidArgumentException.class,
                    () -> gpu.forwardInto(d, dInitial, o, finalState));
            assertThat(e).as("the CUDA backend rejects it").isNotNull();
            assertThat(e.getMessage()).contains(part).isEqualTo(onCpu.getMessage());
            assertThat(e.status()).isEqualTo(Status.INVALID_ARGUMENT);
            assertSentinel("o", o);
            assertSentinel("final state", levels);
        } finally {
            Gpu.close(d);
            if (dInitial != null) {
                dInitial.close();
            }
        }
    }

    @Test
    void shapesGroupsLevelsAndPackedSequences() {
        Gpu.assume();
        assertForwardRejected(RandomInputs.floats(AttentionShape.of(1, 7, 3, 2, 8, 4, 4), 1), null,
                "v.shape[2] (H, heads) = 3 must be a multiple of q.shape[2] (G, groups) = 2");
        assertForwardRejected(RandomInputs.floats(AttentionShape.of(1, 100, 2, 1, 8, 4, 4), 2), null,
                "must be >= bit_length(99) + 1 = 8, got 4");
        AttentionInputs f = RandomInputs.floats(SHAPE, 4);
        assertForwardRejected(AttentionInputs.of(SHAPE, f.q(), Tensor.of(new float[7 * 9], 1, 7, 1, 9), f.v(),
                f.g(), f.l()), null, "k.shape[3] (K, key dim) must equal q.shape[3] = 8, got 9");
        assertForwardRejected(RandomInputs.floats(SHAPE.withCuSeqlens(0, 5, 3, 7), 6), null,
                "cu_seqlens must be non-decreasing");
        State tooSmall = State.of(Tensor.zeros(DType.FLOAT32, 1, 2, 3, 8, 4), 9);
        assertForwardRejected(RandomInputs.floats(SHAPE.withLevels(5), 7), tooSmall,
                "initial_state.levels.shape[2] (Ls, state levels) must be >= bit_length(9) + 1 = 5, got 3");
    }

    @Test
    void rejectedBackwardWritesNoGradient() {
        Gpu.assume();
        AttentionInputs in = RandomInputs.floats(SHAPE, 20);
        Tensor wrongKeyDim = Tensor.zeros(DType.FLOAT32, 1, 2, 5, 6, 4);
        Tensor dO = Tensor.of(RandomInputs.gaussian(new java.util.Random(1), 56, 1), SHAPE.valueShape());
        InvalidArgumentException onCpu = catchThrowableOfType(InvalidArgumentException.class,
                () -> BadInputTest.LLA.backward(in, null, dO, wrongKeyDim));
        assertThat(onCpu).isNotNull();
        LogLinear gpu = LogLinear.create(Gpu.exact(LogLinearConfig.defaults()));
        AttentionInputs d = Gpu.onGpu(in);
        try (Tensor dOd = dO.to(Gpu.DEVICE); Tensor dFinal = wrongKeyDim.to(Gpu.DEVICE);
             Tensor dq = sentinel(SHAPE.queryShape()); Tensor dk = sentinel(SHAPE.queryShape());
             Tensor dv = sentinel(SHAPE.valueShape()); Tensor dg = sentinel(SHAPE.gateShape());
             Tensor dl = sentinel(SHAPE.levelScaleShape())) {
            InvalidArgumentException e = catchThrowableOfType(InvalidArgumentException.class,
                    () -> gpu.backwardInto(d, null, dOd, dFinal, Gradients.of(dq, dk, dv, dg, dl)));
            assertThat(e).isNotNull();
            assertThat(e.getMessage()).contains("d_final_state.shape[3]").isEqualTo(onCpu.getMessage());
            for (Tensor t : Arrays.asList(dq, dk, dv, dg, dl)) {
                assertSentinel("a gradient", t);
            }
        } finally {
            Gpu.close(d);
        }
    }

    @Test
    void rejectedDecodeStepLeavesTheGpuStateAsItWas() {
        Gpu.assume();
        AttentionShape prompt = AttentionShape.of(2, 5, 2, 1, 8, 4, 4);
        LogLinear gpu = LogLinear.create(Gpu.exact(LogLinearConfig.defaults()));
        AttentionInputs d = Gpu.onGpu(RandomInputs.floats(prompt, 13));
        try (DecodeState state = gpu.newDecodeState(prompt.numSequences(), 2, 4, 8, 4, DType.FLOAT32, Gpu.DEVICE)) {
            state.prefill(d).close();
            State before = state.exportState();
            AttentionInputs wrongKeyDim = Gpu.onGpu(RandomInputs.floats(AttentionShape.token(2, 2, 1, 6, 4, 4), 14));
            InvalidArgumentException e = catchThrowableOfType(InvalidArgumentException.class,
                    () -> state.step(wrongKeyDim));
            Gpu.close(wrongKeyDim);
            assertThat(e).isNotNull();
            assertThat(e.getMessage()).contains("state");
            State after = state.exportState();
            assertThat(after.positionArray()).containsExactly(5, 5);
            assertThat(after.levels().toFloatArray()).containsExactly(before.levels().toFloatArray());
        } finally {
            Gpu.close(d);
        }
    }
}
