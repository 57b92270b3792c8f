package dev.loglinear;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

/**
 * Tensors in CUDA memory: allocation (zero-filled), copies from and to Java arrays, NIO buffers
 * and other tensors (synchronous and on a stream), readers, views, closing, and the errors of
 * misuse. Skipped without a GPU.
 */
class CudaTensorTest {
    static float[] ramp(int n) {
        float[] x = new float[n];
        for (int i = 0; i < n; i++) {
            x[i] = 0.5f * i - 3;
        }
        return x;
    }

    @Test
    void allocateCopyAndReadBack() {
        Gpu.assume();
        try (Tensor t = Tensor.allocate(Gpu.DEVICE, DType.FLOAT32, 3, 4, 5)) {
            assertThat(t.device()).isEqualTo(Gpu.DEVICE);
            assertThat(t.isHeap()).isFalse();
            assertThat(t.toFloatArray()).containsOnly(0f);
            float[] x = ramp(60);
            t.copyFrom(x);
            assertThat(t.toFloatArray()).containsExactly(x);
            float[] back = new float[60];
            t.copyTo(back);
            assertThat(back).containsExactly(x);
            // A strided view of device memory reads through the host.
            assertThat(t.slice(2, 1, 2).toFloatArray()).containsExactly(
                    x[1], x[6], x[11], x[16], x[21], x[26], x[31], x[36], x[41], x[46], x[51], x[56]);
            Tensor host = t.to(Device.CPU);
            assertThat(host.device()).isEqualTo(Device.CPU);
            assertThat(host.toFloatArray()).containsExactly(x);
            host.close();
        }
    }

    @Test
    void copiesBetweenBuffersDevicesAndDtypes() {
        Gpu.assume();
        float[] x = ramp(256);
        FloatBuffer direct = ByteBuffer.allocateDirect(256 * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
        direct.put(x).flip();
        try (Tensor a = Tensor.allocate(Gpu.DEVICE, DType.FLOAT32, 16, 16);
             Tensor b = Tensor.allocate(Gpu.DEVICE, DType.FLOAT32, 16, 16)) {
            a.copyFrom(direct);                                // host buffer -> device
            b.copyFrom(a);                                     // device -> device
            FloatBuffer out = ByteBuffer.allocateDirect(256 * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
            b.copyTo(out);                                     // device -> host buffer
            float[] got = new float[256];
            out.get(got);
            assertThat(got).containsExactly(x);

            Tensor hostDirect = Tensor.of(x, 16, 16).toDirect();
            b.copyFrom(Tensor.allocateDirect(DType.FLOAT32, 16, 16));   // zeros
            b.copyFromAsync(hostDirect, 0);
            LogLinear.create(LogLinearConfig.builder().backend(Backend.CUDA).build()).synchronize();
            assertThat(b.toFloatArray()).containsExactly(x);

            assertThatThrownBy(() -> a.copyFrom(Tensor.bfloat16(x, 16, 16)))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("BFLOAT16");
            assertThatThrownBy(() -> a.copyFrom(new float[255]))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("256");
            assertThatThrownBy(() -> a.copyFromAsync(Tensor.of(x, 16, 16), 0))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("Java arrays");
            assertThatThrownBy(() -> a.withStrides(1, 16).copyFrom(Tensor.of(x, 16, 16)))
                    .isInstanceOf(InvalidArgumentException.class).hasMessageContaining("dense destination");
        }
        try (Tensor bits = Tensor.bfloat16(x, 256).to(Gpu.DEVICE)) {
            short[] back = new short[256];
            bits.copyToBits(back);
            assertThat(Tensor.ofBits(back, DType.BFLOAT16).toFloatArray()).containsExactly(
                    Tensor.bfloat16(x).toFloatArray());
        }
    }

    @Test
    void closedMemoryIsAnErrorNotACrash() {
        Gpu.assume();
        Tensor t = Tensor.allocate(Gpu.DEVICE, DType.FLOAT64, 8);
        Tensor view = t.slice(0, 2, 6);
        view.close();                                          // a view owns nothing
        assertThat(t.isOpen()).isTrue();
        t.close();
        t.close();                                             // idempotent
        assertThat(t.isOpen()).isFalse();
        assertThat(view.isOpen()).isFalse();
        assertThatThrownBy(t::toDoubleArray).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("released by close()");
        assertThatThrownBy(() -> view.copyFrom(new double[4])).isInstanceOf(IllegalStateException.class);
        AttentionShape shape = AttentionShape.of(1, 8, 1, 1, 1, 1, 4);
        AttentionInputs in = RandomInputs.floats(shape, 3);
        AttentionInputs onGpu = Gpu.onGpu(in);
        onGpu.q().close();
        assertThatThrownBy(() -> LogLinear.create().forward(onGpu)).isInstanceOf(IllegalStateException.class)
                .hasMessageContaining("released");
        Gpu.close(onGpu);
    }

    @Test
    void manyAllocationsAreFreed() {
        Gpu.assume();
        // 2000 x 64 MiB = 125 GiB: only fits the GPU when each is freed on close.
        for (int i = 0; i < 2000; i++) {
            try (Tensor t = Tensor.allocate(Gpu.DEVICE, DType.FLOAT32, 16L << 20)) {
                assertThat(t.numel()).isEqualTo(16L << 20);
            }
        }
    }

    @Test
    void mixedDevicesAreRejectedByTheLibrary() {
        Gpu.assume();
        AttentionShape shape = AttentionShape.of(1, 16, 2, 1, 8, 4, 5);
        AttentionInputs in = RandomInputs.floats(shape, 5);
        try (Tensor q = in.q().toDirect().to(Gpu.DEVICE)) {
            AttentionInputs mixed = AttentionInputs.of(shape, q, in.k().toDirect(), in.v().toDirect(),
                    in.g().toDirect(), in.l().toDirect());
            assertThatThrownBy(() -> LogLinear.create().forward(mixed)).isInstanceOf(InvalidArgumentException.class)
                    .hasMessageContaining("one device");
        }
    }

    @Test
    void javaArraysAreStagedForACudaCall() {
        Gpu.assume();
        // q on the GPU, the rest Java arrays: the arrays are copied to the GPU for the call, and the
        // output array is written back, like the CPU result.
        AttentionShape shape = AttentionShape.of(2, 33, 2, 1, 8, 4, 7);
        AttentionInputs in = RandomInputs.floats(shape, 9);
        LogLinear cpu = LogLinear.create(LogLinearConfig.builder().backend(Backend.CPU).build());
        float[] want = cpu.forward(in).toFloatArray();
        LogLinear gpu = LogLinear.create(Gpu.exact(LogLinearConfig.defaults()));
        try (Tensor q = in.q().to(Gpu.DEVICE)) {
            float[] o = new float[want.length];
            gpu.forwardInto(AttentionInputs.of(shape, q, in.k(), in.v(), in.g(), in.l()), null, Tensor.of(o), null);
            Errors.assertClose("staged forward", Tensor.of(o), toDoubles(want), 1e-5);
        }
    }

    static double[] toDoubles(float[] x) {
        double[] d = new double[x.length];
        for (int i = 0; i < x.length; i++) {
            d[i] = x[i];
        }
        return d;
    }
}
