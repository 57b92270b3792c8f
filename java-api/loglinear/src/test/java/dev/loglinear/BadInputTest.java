package dev.loglinear;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.assertj.core.api.Assertions.catchThrowableOfType;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.util.Arrays;
import java.util.concurrent.CyclicBarrier;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import org.junit.jupiter.api.Test;

/**
 * Rejected calls raise the documented exception with the library's message (naming the
 * argument, expected and actual value) and leave every output and state as it was.
 */
class BadInputTest {
    static final float SENTINEL = 7.25f;
    static final AttentionShape SHAPE = AttentionShape.of(1, 7, 2, 1, 8, 4, 4);
    static final LogLinear LLA = LogLinear.create(LogLinearConfig.builder().backend(Backend.CPU).build());

    /** Asserts that {@code forwardInto} rejects {@code in} with {@code type} and a message containing all of {@code parts}, writing nothing. */
    static <E extends LogLinearException> E assertRejected(LogLinear lla, AttentionInputs in, State initial,
                                                           Class<E> type, String... parts) {
        long[] valueShape = in.shape().valueShape();
        float[] heapOut = filled((int) Tensor.product(valueShape));
        FloatBuffer directOut = ByteBuffer.allocateDirect(heapOut.length * 4).order(ByteOrder.nativeOrder())
                .asFloatBuffer().put(heapOut);
        directOut.clear();
        State finalState = State.zeros(in.shape().numSequences(), in.shape().heads(), 8, in.shape().keyDim(),
                in.shape().valueDim(), DType.FLOAT32);
        float[] finalLevels = (float[]) ((Storage.Heap) finalState.levels().storage()).array();
        Arrays.fill(finalLevels, SENTINEL);

        E heap = catchThrowableOfType(type, () -> lla.forwardInto(in, initial, Tensor.of(heapOut, valueShape), finalState));
        E direct = catchThrowableOfType(type, () -> lla.forwardInto(in, initial, Tensor.of(directOut, valueShape), null));
        for (E e : Arrays.asList(heap, direct)) {
            assertThat(e).as("expected %s", type.getSimpleName()).isNotNull();
            assertThat(e.getMessage()).contains(parts);
        }
        assertThat(heap.getMessage()).isEqualTo(direct.getMessage());
        assertThat(heapOut).as("o (Java array) after a rejected call").containsOnly(SENTINEL);
        float[] directAfter = new float[heapOut.length];
        directOut.get(0, directAfter);
        assertThat(directAfter).as("o (direct buffer) after a rejected call").containsOnly(SENTINEL);
        assertThat(finalLevels).as("final state after a rejected call").containsOnly(SENTINEL);
        assertThat(finalState.positionArray()).containsOnly(0L);
        return heap;
    }

    static float[] filled(int n) {
        float[] a = new float[n];
        Arrays.fill(a, SENTINEL);
        return a;
    }

    @Test
    void headsNotAMultipleOfGroups() {
        AttentionShape s = AttentionShape.of(1, 7, 3, 2, 8, 4, 4);
        InvalidArgumentException e = assertRejected(LLA, RandomInputs.floats(s, 1), null,
                InvalidArgumentException.class, "v.shape[2] (H, heads) = 3 must be a multiple of q.shape[2] (G, groups) = 2");
        assertThat(e.status()).isEqualTo(Status.INVALID_ARGUMENT);
    }

    @Test
    void tooFewLevels() {
        AttentionShape s = AttentionShape.of(1, 100, 2, 1, 8, 4, 4);
        assertRejected(LLA, RandomInputs.floats(s, 2), null, InvalidArgumentException.class,
                "needs more levels than l has", "must be >= bit_length(99) + 1 = 8, got 4");
    }

    @Test
    void mixedPrecision() {
        AttentionInputs f = RandomInputs.floats(SHAPE, 3);
        AttentionInputs mixed = AttentionInputs.of(SHAPE, Tensor.of(f.q().toDoubleArray()), f.k(), f.v(), f.g(), f.l());
        assertRejected(LLA, mixed, null, InvalidArgumentException.class, "k.dtype must be float64", "got float32");
    }

    @Test
    void shapesThatDisagree() {
        AttentionInputs f = RandomInputs.floats(SHAPE, 4);
        Tensor wideK = Tensor.of(new float[7 * 9], 1, 7, 1, 9);
        AttentionInputs bad = AttentionInputs.of(SHAPE, f.q(), wideK, f.v(), f.g(), f.l());
        assertRejected(LLA, bad, null, InvalidArgumentException.class, "k.shape[3] (K, key dim) must equal q.shape[3] = 8, got 9");
    }

    @Test
    void betaWithMamba2AndNoBetaWithGatedDeltaNet() {
        AttentionInputs f = RandomInputs.floats(SHAPE, 5);
        assertRejected(LLA, f.withBeta(new float[14]), null, InvalidArgumentException.class,
                "beta must be absent (ndim 0) for LLA_VARIANT_MAMBA2");
        LogLinear gdn = LogLinear.create(LogLinearConfig.builder().variant(Variant.GATED_DELTANET).build());
        assertRejected(gdn, f, null, InvalidArgumentException.class,
                "beta is absent (ndim 0) but config.variant is LLA_VARIANT_GATED_DELTANET");
    }

    @Test
    void packedSequencesThatDoNotAddUp() {
        AttentionShape s = SHAPE.withCuSeqlens(0, 3, 6);
        assertRejected(LLA, RandomInputs.floats(s, 6), null, InvalidArgumentException.class,
                "cu_seqlens[2] (the last offset) must equal q.shape[1]", "= 7, got 6");
        AttentionShape decreasing = SHAPE.withCuSeqlens(0, 5, 3, 7);
        assertRejected(LLA, RandomInputs.floats(decreasing, 6), null, InvalidArgumentException.class,
                "cu_seqlens must be non-decreasing");
        AttentionShape batched = AttentionShape.of(2, 7, 2, 1, 8, 4, 4).withCuSeqlens(0, 7);
        assertRejected(LLA, RandomInputs.floats(batched, 6), null, InvalidArgumentException.class,
                "q.shape[0] (B, batch) must be 1 when cu_seqlens is given");
    }

    @Test
    void initialStateTooSmallForItsPosition() {
        State initial = State.of(Tensor.zeros(DType.FLOAT32, 1, 2, 3, 8, 4), 9);
        assertRejected(LLA, RandomInputs.floats(SHAPE.withLevels(5), 7), initial, InvalidArgumentException.class,
                "initial_state.position[0] = 9", "initial_state.levels.shape[2] (Ls, state levels) must be >= bit_length(9) + 1 = 5, got 3");
    }

    @Test
    void cudaBackendWithHostMemory() {
        LogLinear cuda = LogLinear.create(LogLinearConfig.builder().backend(Backend.CUDA).build());
        assertRejected(cuda, RandomInputs.floats(SHAPE, 8), null, InvalidArgumentException.class,
                "config.backend is LLA_BACKEND_CUDA but q is host memory");
    }

    @Test
    void deviceMemoryWithoutTheCudaBackend() {
        if (LogLinear.isAvailable(Backend.CUDA)) {
            return; // with a GPU this address would be checked as device memory instead
        }
        AttentionInputs f = RandomInputs.floats(SHAPE, 9);
        Tensor fakeDevice = Tensor.ofAddress(0x10000, DType.FLOAT32, Device.cuda(0), SHAPE.queryShape());
        AttentionInputs onDevice = AttentionInputs.of(SHAPE, fakeDevice, f.k(), f.v(), f.g(), f.l());
        assertRejected(LLA, onDevice, null, InvalidArgumentException.class, "all tensors of a call must be on one device");
        LogLinear auto = LogLinear.create();
        Tensor o = Tensor.ofAddress(0x20000, DType.FLOAT32, Device.cuda(0), SHAPE.valueShape());
        AttentionInputs allDevice = AttentionInputs.of(SHAPE, fakeDevice,
                Tensor.ofAddress(0x30000, DType.FLOAT32, Device.cuda(0), SHAPE.queryShape()),
                Tensor.ofAddress(0x40000, DType.FLOAT32, Device.cuda(0), SHAPE.valueShape()),
                Tensor.ofAddress(0x50000, DType.FLOAT32, Device.cuda(0), SHAPE.gateShape()),
                Tensor.ofAddress(0x60000, DType.FLOAT32, Device.cuda(0), SHAPE.levelScaleShape()));
        UnsupportedException e = catchThrowableOfType(UnsupportedException.class, () -> auto.forwardInto(allDevice, null, o, null));
        // A CPU-only build has no CUDA backend; the linux-x86_64-cuda build has one
        // but finds no device here.
        assertThat(e).message().satisfiesAnyOf(
                m -> assertThat(m).contains("q is CUDA memory but this build of loglinear has no CUDA backend"),
                m -> assertThat(m).contains("q is CUDA memory but the CUDA backend has no usable device"));
        assertThat(e.status()).isEqualTo(Status.UNSUPPORTED);
    }

    @Test
    void outputThatAliasesItself() {
        AttentionInputs f = RandomInputs.floats(SHAPE, 10);
        float[] o = filled(56);
        Tensor aliased = Tensor.of(o, SHAPE.valueShape()).withStrides(56, 0, 4, 1);  // every token on one row
        assertThatThrownBy(() -> LLA.forwardInto(f, null, aliased, null))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("o.strides[1] = 0 makes output elements alias");
        assertThat(o).containsOnly(SENTINEL);
    }

    @Test
    void outputOverlappingAnInput() {
        AttentionInputs f = RandomInputs.floats(SHAPE, 11);
        ByteBuffer shared = ByteBuffer.allocateDirect(56 * 4).order(ByteOrder.nativeOrder());
        Tensor v = Tensor.of(shared, DType.FLOAT32, SHAPE.valueShape());
        AttentionInputs in = AttentionInputs.of(SHAPE, f.q(), f.k(), v, f.g(), f.l());
        assertThatThrownBy(() -> LLA.forwardInto(in, null, v, null))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("o overlaps v in memory");
    }

    @Test
    void javaSideChecksNameTheArgument() {
        AttentionInputs f = RandomInputs.floats(SHAPE, 12);
        assertThatThrownBy(() -> AttentionInputs.of(SHAPE, new float[55], f.k().toFloatArray(), f.v().toFloatArray(),
                f.g().toFloatArray(), f.l().toFloatArray()))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("q: expected 56 elements for shape [1, 7, 1, 8], got 55");
        assertThatThrownBy(() -> Tensor.of(FloatBuffer.allocate(4)))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("buffer: expected a direct buffer");
        FloatBuffer bigEndian = ByteBuffer.allocateDirect(16).order(ByteOrder.BIG_ENDIAN).asFloatBuffer();
        assertThatThrownBy(() -> Tensor.of(bigEndian))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("buffer: expected native byte order");
        assertThatThrownBy(() -> Tensor.of(new float[10], 2, 5).withStrides(5, 2))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessage("shape [2, 5] with strides [5, 2]: expected elements within [0, 10) of the array, got elements 0 to 13");
        assertThatThrownBy(() -> LogLinearConfig.builder().threads(-1))
                .isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("threads: expected >= 0");
    }

    /**
     * Gradient destinations of {@link #SHAPE} filled with {@link #SENTINEL}, in Java arrays or
     * direct buffers, with a {@code dInitialState [1, 2, stateLevels, 8, 4]} when
     * {@code stateLevels > 0}.
     */
    static Gradients sentinelGradients(boolean direct, long stateLevels) {
        Gradients g = Gradients.of(sentinel(direct, SHAPE.queryShape()), sentinel(direct, SHAPE.queryShape()),
                sentinel(direct, SHAPE.valueShape()), sentinel(direct, SHAPE.gateShape()),
                sentinel(direct, SHAPE.levelScaleShape()));
        return stateLevels > 0 ? g.withDInitialState(sentinel(direct, SHAPE.stateShape(stateLevels))) : g;
    }

    static Tensor sentinel(boolean direct, long[] shape) {
        Tensor t = Tensor.of(filled((int) Tensor.product(shape)), shape);
        return direct ? t.toDirect() : t;
    }

    static void assertUntouched(Gradients g) {
        for (Tensor t : Arrays.asList(g.dq(), g.dk(), g.dv(), g.dg(), g.dl())) {
            assertThat(t.toFloatArray()).as("a gradient after a rejected backward").containsOnly(SENTINEL);
        }
        g.dInitialState().ifPresent(t ->
                assertThat(t.toFloatArray()).as("dInitialState after a rejected backward").containsOnly(SENTINEL));
    }

    /**
     * Asserts that {@code backwardInto} rejects the call with an {@link InvalidArgumentException}
     * whose message contains all of {@code parts}, for destinations in Java arrays and in direct
     * buffers, writing none of them.
     */
    static void assertBackwardRejected(AttentionInputs in, State initial, Tensor dFinalState, long dInitialLevels,
                                       String... parts) {
        Tensor dO = Tensor.of(RandomInputs.gaussian(new java.util.Random(1), 56, 1), SHAPE.valueShape());
        for (boolean direct : new boolean[] {false, true}) {
            Gradients grads = sentinelGradients(direct, dInitialLevels);
            InvalidArgumentException e = catchThrowableOfType(InvalidArgumentException.class,
                    () -> LLA.backwardInto(in, initial, dO, dFinalState, grads));
            assertThat(e).as("expected InvalidArgumentException (direct: %s)", direct).isNotNull();
            assertThat(e.getMessage()).contains(parts);
            assertThat(e.status()).isEqualTo(Status.INVALID_ARGUMENT);
            assertUntouched(grads);
        }
    }

    @Test
    void initialStateGradientWithoutAnInitialState() {
        AttentionInputs in = RandomInputs.floats(SHAPE, 17);
        assertBackwardRejected(in, null, null, 4, "grads.d_initial_state is present",
                "initial_state is NULL");
    }

    @Test
    void initialStateGradientThatDoesNotMatchTheState() {
        AttentionInputs in = RandomInputs.floats(SHAPE, 18);
        State initial = LLA.forward(GoldenCasesTest.window(RandomInputs.floats(SHAPE, 19), 0, 1), null, true)
                .finalState().orElseThrow();
        assertThat(initial.stateLevels()).isEqualTo(4);
        assertBackwardRejected(in, initial, null, 5, "grads.d_initial_state.shape[2]",
                "must equal initial_state.levels.shape[2] = 4, got 5");
    }

    @Test
    void finalStateGradientOfTheWrongShapeOrDtype() {
        AttentionInputs in = RandomInputs.floats(SHAPE, 20);
        // An initial state at position 1: the 7 tokens end at 8, so d_final_state needs
        // bit_length(8) + 1 = 5 levels at least.
        State initial = LLA.forward(GoldenCasesTest.window(RandomInputs.floats(SHAPE, 21), 0, 1), null, true)
                .finalState().orElseThrow();
        Tensor wrongKeyDim = Tensor.zeros(DType.FLOAT32, 1, 2, 5, 6, 4);
        assertBackwardRejected(in, initial, wrongKeyDim, 4, "d_final_state.shape[3]", "got 6");
        assertBackwardRejected(in, null, wrongKeyDim, 0, "d_final_state.shape[3]", "got 6");
        Tensor tooFewLevels = Tensor.zeros(DType.FLOAT32, 1, 2, 4, 8, 4);
        assertBackwardRejected(in, initial, tooFewLevels, 4, "d_final_state", "bit_length(8) + 1 = 5, got 4");
        Tensor float64 = Tensor.zeros(DType.FLOAT64, 1, 2, 5, 8, 4);
        assertBackwardRejected(in, initial, float64, 4, "d_final_state.dtype", "float32");
        Tensor flat = Tensor.zeros(DType.FLOAT32, 2 * 5 * 8 * 4);
        assertBackwardRejected(in, initial, flat, 4, "d_final_state must have 5 dimensions [N, H, Ls, K, V]");
        // The allocating overload reports the same.
        assertThatThrownBy(() -> LLA.backward(in, initial, Tensor.zeros(DType.FLOAT32, SHAPE.valueShape()),
                wrongKeyDim)).isInstanceOf(InvalidArgumentException.class).hasMessageContaining("d_final_state.shape[3]");
    }

    @Test
    void rejectedDecodeStepLeavesTheStateAsItWas() {
        AttentionShape prompt = AttentionShape.of(2, 5, 2, 1, 8, 4, 4);
        try (DecodeState state = LLA.newDecodeState(prompt.numSequences(), 2, 4, 8, 4, DType.FLOAT32)) {
            state.prefill(RandomInputs.floats(prompt, 13));
            State before = state.exportState();
            AttentionShape wrongKeyDim = AttentionShape.token(2, 2, 1, 6, 4, 4);
            InvalidArgumentException e = catchThrowableOfType(InvalidArgumentException.class,
                    () -> state.step(RandomInputs.floats(wrongKeyDim, 14)));
            assertThat(e).isNotNull();
            assertThat(e.getMessage()).contains("state");
            State after = state.exportState();
            assertThat(after.positionArray()).containsExactly(5, 5);
            assertThat(after.levels().toFloatArray()).containsExactly(before.levels().toFloatArray());
        }
    }

    @Test
    void errorMessagesBelongToTheFailingThread() throws Exception {
        AttentionInputs groups = RandomInputs.floats(AttentionShape.of(1, 7, 3, 2, 8, 4, 4), 15);
        AttentionInputs levels = RandomInputs.floats(AttentionShape.of(1, 100, 2, 1, 8, 4, 4), 16);
        CyclicBarrier barrier = new CyclicBarrier(2);
        ExecutorService pool = Executors.newFixedThreadPool(2);
        try {
            Future<?> a = pool.submit(() -> failRepeatedly(barrier, groups, "must be a multiple of"));
            Future<?> b = pool.submit(() -> failRepeatedly(barrier, levels, "needs more levels than l has"));
            a.get();
            b.get();
        } finally {
            pool.shutdownNow();
        }
    }

    private static Void failRepeatedly(CyclicBarrier barrier, AttentionInputs in, String expected) throws Exception {
        for (int i = 0; i < 200; i++) {
            barrier.await();
            assertThatThrownBy(() -> LLA.forward(in)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining(expected);
        }
        return null;
    }
}
