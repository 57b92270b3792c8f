package dev.loglinear;

import static org.assertj.core.api.Assertions.assertThat;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import java.nio.ShortBuffer;
import java.util.function.Function;
import org.bytedeco.javacpp.FloatPointer;
import org.junit.jupiter.api.Test;

/**
 * The same golden case through every kind of memory the API takes: direct buffers (float,
 * double, byte, bfloat16), JavaCPP pointers, raw addresses and strided layouts; outputs written
 * in place into the caller's native memory.
 */
class MemoryKindsTest {
    static final GoldenCase CASE = GoldenCase.named("m2_t64_pergroup");
    static final LogLinear LLA = LogLinear.create(CASE.config());
    static final AttentionShape SHAPE = CASE.shape();

    static AttentionInputs inputs(Function<NpyFile, Tensor> memory) {
        return AttentionInputs.of(SHAPE, memory.apply(CASE.array("q")), memory.apply(CASE.array("k")),
                memory.apply(CASE.array("v")), memory.apply(CASE.array("g")), memory.apply(CASE.array("l")));
    }

    static FloatBuffer directFloats(int n) {
        return ByteBuffer.allocateDirect(n * 4).order(ByteOrder.nativeOrder()).asFloatBuffer();
    }

    @Test
    void directFloatBuffersInAndOutInPlace() {
        AttentionInputs in = inputs(a -> Tensor.of(directFloats(a.data().length).put(a.floats()).flip()));
        FloatBuffer o = directFloats((int) Tensor.product(SHAPE.valueShape()));
        LLA.forwardInto(in, null, Tensor.of(o), null);
        float[] written = new float[o.capacity()];
        o.get(0, written);
        Errors.assertClose("o written into the caller's buffer", Tensor.of(written), CASE.array("o").data(), 1e-5);

        Gradients grads = LLA.backward(in, Tensor.of(directFloats(o.capacity()).put(CASE.array("do").floats()).flip()));
        assertThat(grads.dq().isHeap()).as("gradients of direct inputs are direct").isFalse();
        Errors.assertClose("dq", grads.dq(), CASE.array("dq").data(), 1e-5);
        Errors.assertClose("dl", grads.dl(), CASE.array("dl").data(), 1e-5);
    }

    @Test
    void directDoubleBuffers() {
        AttentionInputs in = inputs(a -> Tensor.of(ByteBuffer.allocateDirect(a.data().length * 8)
                .order(ByteOrder.nativeOrder()).asDoubleBuffer().put(a.data()).flip()));
        Tensor o = LLA.forward(in);
        assertThat(o.isHeap()).isFalse();
        assertThat(o.dtype()).isEqualTo(DType.FLOAT64);
        Errors.assertClose("o", o, CASE.array("o").data(), 1e-10);
    }

    @Test
    void byteBuffersFromTheirPosition() {
        AttentionInputs in = inputs(a -> {
            ByteBuffer bytes = ByteBuffer.allocateDirect(16 + a.data().length * 4).order(ByteOrder.nativeOrder());
            bytes.position(16);
            bytes.slice().order(ByteOrder.nativeOrder()).asFloatBuffer().put(a.floats());
            return Tensor.of(bytes, DType.FLOAT32, a.shape());     // starts 16 bytes in
        });
        Errors.assertClose("o", LLA.forward(in), CASE.array("o").data(), 1e-5);
    }

    @Test
    void javacppPointersAndRawAddresses() {
        try (FloatPointer memory = new FloatPointer(8 + Tensor.product(SHAPE.valueShape()))) {
            AttentionInputs in = inputs(a -> Tensor.of(new FloatPointer(a.floats()), DType.FLOAT32, a.shape()));
            memory.position(8);                                   // the view starts 8 floats in
            LLA.forwardInto(in, null, Tensor.of(memory, DType.FLOAT32, SHAPE.valueShape()), null);
            float[] written = new float[(int) Tensor.product(SHAPE.valueShape())];
            memory.get(written);
            Errors.assertClose("o through a FloatPointer", Tensor.of(written), CASE.array("o").data(), 1e-5);

            Tensor raw = Tensor.ofAddress(memory.address() + 8 * 4, DType.FLOAT32, Device.CPU, SHAPE.valueShape());
            Errors.assertClose("o read at a raw address", raw, CASE.array("o").data(), 1e-5);
        }
    }

    @Test
    void stridedLayouts() {
        // q and k stored head-major [B, G, T, K] and passed with strides as [B, T, G, K].
        Function<NpyFile, Tensor> headMajor = a -> {
            long[] s = a.shape();
            float[] x = a.floats();
            float[] transposed = new float[x.length];
            for (int b = 0; b < s[0]; b++) {
                for (int t = 0; t < s[1]; t++) {
                    for (int g = 0; g < s[2]; g++) {
                        for (int k = 0; k < s[3]; k++) {
                            transposed[(int) (((b * s[2] + g) * s[1] + t) * s[3] + k)] = x[(int) (((b * s[1] + t) * s[2] + g) * s[3] + k)];
                        }
                    }
                }
            }
            return Tensor.of(transposed, s).withStrides(s[2] * s[1] * s[3], s[3], s[1] * s[3], 1);
        };
        AttentionInputs dense = inputs(a -> Tensor.of(a.floats(), a.shape()));
        AttentionInputs strided = AttentionInputs.of(SHAPE, headMajor.apply(CASE.array("q")),
                headMajor.apply(CASE.array("k")), dense.v(), dense.g(), dense.l());
        Errors.assertClose("o from strided q, k", LLA.forward(strided), CASE.array("o").data(), 1e-5);
    }

    @Test
    void bfloat16WithinSpecOfTheFloat64ResultOnTheSameRoundedInputs() {
        // bf16 q, k, v, l in direct ShortBuffers; g stays float32 (log decays are never 16-bit).
        Function<NpyFile, Tensor> bf16 = a -> {
            Tensor rounded = Tensor.bfloat16(a.floats(), a.shape());
            ShortBuffer bits = ByteBuffer.allocateDirect(a.data().length * 2).order(ByteOrder.nativeOrder()).asShortBuffer();
            Tensor direct = Tensor.of(bits, DType.BFLOAT16, a.shape());
            bits.put(((short[]) ((Storage.Heap) rounded.storage()).array()));
            return direct;
        };
        AttentionInputs in = AttentionInputs.of(SHAPE, bf16.apply(CASE.array("q")), bf16.apply(CASE.array("k")),
                bf16.apply(CASE.array("v")), Tensor.of(CASE.array("g").floats(), CASE.array("g").shape()),
                bf16.apply(CASE.array("l")));
        AttentionInputs reference = AttentionInputs.of(SHAPE, in.q().toDoubleArray(), in.k().toDoubleArray(),
                in.v().toDoubleArray(), in.g().toDoubleArray(), in.l().toDoubleArray());
        Tensor o = LLA.forward(in);
        assertThat(o.dtype()).isEqualTo(DType.BFLOAT16);
        Errors.assertClose("bf16 o", o, LLA.forward(reference).toDoubleArray(), 1e-2);
    }
}
