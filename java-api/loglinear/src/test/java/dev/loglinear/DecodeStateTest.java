package dev.loglinear;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.EnumSource;
import org.junit.jupiter.params.provider.ValueSource;

/** Prefill, token-by-token steps, export and import of a {@link DecodeState}. */
class DecodeStateTest {
    static final String CASE = "m2_t100_gqa";

    @ParameterizedTest
    @EnumSource(Precision.class)
    void prefillThenStepsReproduceTheGoldenCase(Precision p) {
        GoldenCase c = GoldenCase.named(CASE);
        LogLinear lla = LogLinear.create(c.config());
        AttentionInputs all = GoldenCasesTest.inputs(c, p);
        AttentionShape shape = all.shape();
        long n = c.statePosition;
        long t = shape.length();
        long b = shape.batch();
        long levels = AttentionShape.levelsForPosition(t);
        try (DecodeState state = lla.newDecodeState(shape.numSequences(), shape.heads(), levels, shape.keyDim(),
                shape.valueDim(), p.dtype)) {
            Tensor goldenO = Tensor.of(c.array("o").data(), c.array("o").shape());
            Errors.assertClose("prefill o", state.prefill(GoldenCasesTest.window(all, 0, n)),
                    goldenO.slice(1, 0, n).toDoubleArray(), p.tolerance);
            assertThat(state.positions()).containsOnly(n);
            GoldenCasesTest.assertStateMatchesGolden(c, state.exportState(), p.tolerance);

            AttentionShape token = AttentionShape.token(b, shape.heads(), shape.groups(), shape.keyDim(),
                    shape.valueDim(), shape.levels());
            double[] stepped = new double[(int) (b * (t - n) * shape.heads() * shape.valueDim())];
            Tensor steppedView = Tensor.of(stepped, b, t - n, shape.heads(), shape.valueDim());
            for (long i = n; i < t; i++) {
                AttentionInputs window = GoldenCasesTest.window(all, i, i + 1);
                Tensor o = state.step(AttentionInputs.of(token, window.q(), window.k(), window.v(), window.g(),
                        window.l()));
                assertThat(o.shape()).containsExactly(b, shape.heads(), shape.valueDim());
                copyInto(o, steppedView.slice(1, i - n, i - n + 1), stepped);
            }
            assertThat(state.positions()).containsOnly(t);
            Errors.assertClose("decode steps o[" + n + ":]", Tensor.of(stepped), goldenO.slice(1, n, t).toDoubleArray(),
                    p.tolerance);
        }
    }

    @ParameterizedTest
    @ValueSource(ints = {0, 1, 5, 16, 33})
    void continuationContractAtEverySplit(int split) {
        AttentionShape shape = AttentionShape.of(2, 40, 2, 1, 8, 4, 7);
        AttentionInputs in = RandomInputs.doubles(shape, 21);
        LogLinear lla = LogLinear.create(LogLinearConfig.builder().backend(Backend.CPU).build());
        double[] full = lla.forward(in).toDoubleArray();
        Tensor fullView = Tensor.of(full, shape.valueShape());

        try (DecodeState state = lla.newDecodeState(shape, DType.FLOAT64)) {
            if (split > 0) {
                Errors.assertClose("prefill", state.prefill(GoldenCasesTest.window(in, 0, split)),
                        fullView.slice(1, 0, split).toDoubleArray(), 1e-12);
            }
            AttentionShape token = AttentionShape.token(2, 2, 1, 8, 4, 7);
            for (int i = split; i < 40; i++) {
                AttentionInputs w = GoldenCasesTest.window(in, i, i + 1);
                Tensor o = state.step(AttentionInputs.of(token, w.q(), w.k(), w.v(), w.g(), w.l()));
                Errors.assertClose("step " + i, o, fullView.slice(1, i, i + 1).toDoubleArray(), 1e-12);
            }
        }
    }

    @ParameterizedTest
    @EnumSource(Precision.class)
    void exportImportRoundTripAndReset(Precision p) {
        AttentionShape shape = AttentionShape.of(3, 13, 2, 2, 4, 8, 5);
        AttentionInputs in = p == Precision.F64 ? RandomInputs.doubles(shape, 31) : RandomInputs.floats(shape, 31);
        LogLinear lla = LogLinear.create(LogLinearConfig.builder().backend(Backend.CPU).build());
        State fromForward = lla.forward(in, null, true).finalState().orElseThrow();
        try (DecodeState a = lla.newDecodeState(3, 2, fromForward.stateLevels(), 4, 8, p.dtype);
             DecodeState b = lla.newDecodeState(3, 2, fromForward.stateLevels(), 4, 8, p.dtype)) {
            a.prefill(in);
            State exported = a.exportState();
            assertThat(exported.positionArray()).containsExactly(13, 13, 13);
            Errors.assertClose("prefill state vs forward state", exported.levels(),
                    fromForward.levels().toDoubleArray(), p.tolerance);

            b.importState(exported);
            assertThat(b.positions()).containsExactly(13, 13, 13);
            Errors.assertClose("imported and exported again", b.exportState().levels(),
                    exported.levels().toDoubleArray(), p.tolerance);

            AttentionShape token = AttentionShape.token(3, 2, 2, 4, 8, 5);
            AttentionInputs next = p == Precision.F64 ? RandomInputs.doubles(token, 32) : RandomInputs.floats(token, 32);
            Errors.assertClose("step after import", b.step(next), a.step(next).toDoubleArray(), p.tolerance);

            a.reset();
            assertThat(a.positions()).containsOnly(0L);
            assertThat(a.exportState().levels().toDoubleArray()).containsOnly(0.0);
        }
    }

    @ParameterizedTest
    @ValueSource(strings = {"step", "export"})
    void closedStatesRefuseWork(String operation) {
        LogLinear lla = LogLinear.create();
        DecodeState state = lla.newDecodeState(1, 1, 2, 4, 4, DType.FLOAT32);
        state.close();
        state.close();
        AttentionInputs token = RandomInputs.floats(AttentionShape.token(1, 1, 1, 4, 4, 2), 1);
        assertThatThrownBy(() -> {
            if (operation.equals("step")) {
                state.step(token);
            } else {
                state.exportState();
            }
        }).isInstanceOf(IllegalStateException.class).hasMessage("DecodeState is closed");
    }

    /** Writes {@code values} (an [N, H, V] step output) into the [N, 1, H, V] view of {@code target}. */
    private static void copyInto(Tensor values, Tensor view, double[] target) {
        double[] v = values.toDoubleArray();
        long[] shape = view.shape();
        long[] strides = view.strides();
        long base = view.offset();
        int i = 0;
        for (long a = 0; a < shape[0]; a++) {
            for (long h = 0; h < shape[2]; h++) {
                for (long d = 0; d < shape[3]; d++) {
                    target[(int) (base + a * strides[0] + h * strides[2] + d * strides[3])] = v[i++];
                }
            }
        }
    }
}
