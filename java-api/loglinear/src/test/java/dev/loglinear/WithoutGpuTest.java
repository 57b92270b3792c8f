package dev.loglinear;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;
import static org.junit.jupiter.api.Assumptions.assumeFalse;

import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

/**
 * Where no CUDA device can be used (a build without the CUDA backend, or a machine without a GPU):
 * every device call fails with {@link UnsupportedException} carrying the library's reason, and
 * nothing crashes. Host memory from {@link Tensor#allocate} works everywhere. Skipped where a GPU
 * is usable (the Cuda* tests cover that).
 */
class WithoutGpuTest {
    @BeforeEach
    void noGpu() {
        assumeFalse(Gpu.present(), "a CUDA device is usable here");
    }

    static void assertReasonGiven(Throwable e) {
        assertThat(e).isInstanceOf(UnsupportedException.class);
        assertThat(e.getMessage()).containsAnyOf("no CUDA backend", "no usable device");
    }

    @Test
    void deviceCallsFailWithTheLibrarysReason() {
        assertThat(Device.cudaDeviceCount()).isZero();
        assertThat(LogLinear.isAvailable(Backend.CUDA)).isFalse();
        assertReasonGiven(org.assertj.core.api.Assertions.catchThrowable(
                () -> Tensor.allocate(Device.cuda(0), DType.FLOAT32, 4)));
        assertReasonGiven(org.assertj.core.api.Assertions.catchThrowable(
                () -> Tensor.of(new float[] {1, 2}).to(Device.cuda(0))));
        assertReasonGiven(org.assertj.core.api.Assertions.catchThrowable(
                () -> State.allocate(Device.cuda(0), 1, 1, 2, 4, 4, DType.FLOAT32)));
        LogLinear lla = LogLinear.create();
        assertReasonGiven(org.assertj.core.api.Assertions.catchThrowable(
                () -> lla.newDecodeState(1, 1, 2, 4, 4, DType.FLOAT32, Device.cuda(0))));
        LogLinear cuda = LogLinear.create(LogLinearConfig.builder().backend(Backend.CUDA).build());
        assertReasonGiven(org.assertj.core.api.Assertions.catchThrowable(cuda::synchronize));
    }

    @Test
    void hostAllocationsWorkAndClose() {
        Tensor t = Tensor.allocate(Device.CPU, DType.FLOAT32, 2, 3);
        assertThat(t.toFloatArray()).containsOnly(0f);
        t.copyFrom(new float[] {1, 2, 3, 4, 5, 6});
        assertThat(t.slice(1, 1, 2).toFloatArray()).containsExactly(2, 5);
        Tensor copy = t.to(Device.CPU);
        t.close();
        assertThatThrownBy(t::toFloatArray).isInstanceOf(IllegalStateException.class);
        assertThat(copy.toFloatArray()).containsExactly(1, 2, 3, 4, 5, 6);
        copy.close();
    }
}
