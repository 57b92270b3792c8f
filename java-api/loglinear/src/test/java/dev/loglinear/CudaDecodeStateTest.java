package dev.loglinear;

import static org.assertj.core.api.Assertions.assertThat;

import org.junit.jupiter.api.Test;

/**
 * A {@link DecodeState} in CUDA memory: prefill and token-by-token steps reproduce a golden case,
 * the state exports to the host and imports back, and reset starts over. Skipped without a GPU.
 */
class CudaDecodeStateTest {
    @Test
    void prefillStepsExportImportAndResetOnTheGpu() {
        Gpu.assume();
        GoldenCase c = GoldenCase.named(DecodeStateTest.CASE);
        LogLinear lla = LogLinear.create(Gpu.exact(c.config()));
        AttentionInputs all = Gpu.onGpu(GoldenCasesTest.inputs(c, Precision.F32));
        AttentionShape shape = all.shape();
        long n = c.statePosition, t = shape.length(), b = shape.batch();
        double tol = Precision.F32.tolerance;
        Tensor goldenO = Tensor.of(c.array("o").data(), c.array("o").shape());
        try (DecodeState state = lla.newDecodeState(shape.numSequences(), shape.heads(),
                AttentionShape.levelsForPosition(t), shape.keyDim(), shape.valueDim(), DType.FLOAT32, Gpu.DEVICE)) {
            assertThat(state.device()).isEqualTo(Gpu.DEVICE);
            try (Tensor o = state.prefill(GoldenCasesTest.window(all, 0, n))) {
                assertThat(o.device()).isEqualTo(Gpu.DEVICE);
                Errors.assertClose("prefill o", o, goldenO.slice(1, 0, n).toDoubleArray(), tol);
            }
            assertThat(state.positions()).containsOnly(n);
            State exported = state.exportState();               // Java arrays, from the GPU
            GoldenCasesTest.assertStateMatchesGolden(c, exported, tol);

            AttentionShape token = AttentionShape.token(b, shape.heads(), shape.groups(), shape.keyDim(),
                    shape.valueDim(), shape.levels());
            try (Tensor stepped = Tensor.allocate(Gpu.DEVICE, DType.FLOAT32, b, t - n, shape.heads(),
                    shape.valueDim())) {
                for (long i = n; i < t; i++) {
                    AttentionInputs w = GoldenCasesTest.window(all, i, i + 1);
                    Tensor o = stepped.slice(1, i - n, i - n + 1).dropAxis(1);
                    state.stepInto(AttentionInputs.of(token, w.q(), w.k(), w.v(), w.g(), w.l()), o);
                }
                assertThat(state.positions()).containsOnly(t);
                Errors.assertClose("decode steps o[" + n + ":]", stepped, goldenO.slice(1, n, t).toDoubleArray(), tol);
            }

            state.importState(exported);                        // back to position n, from the host
            assertThat(state.positions()).containsOnly(n);
            try (State onGpu = exported.to(Gpu.DEVICE)) {
                state.importState(onGpu);                       // and from CUDA memory
                State again = state.exportState();
                Errors.assertClose("export after import", again.levels(), exported.levels().toDoubleArray(), 0);
            }
            state.reset();
            assertThat(state.positions()).containsOnly(0L);
            assertThat(state.exportState().levels().toDoubleArray()).containsOnly(0.0);
        } finally {
            Gpu.close(all);
        }
    }
}
