package dev.loglinear;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.FloatBuffer;
import org.junit.jupiter.api.Test;

/** Views, bounds and conversions of {@link Tensor} and the shapes of {@link AttentionShape}. */
class TensorTest {
    @Test
    void slicesAndStridesViewTheSameMemory() {
        float[] data = new float[24];
        for (int i = 0; i < data.length; i++) {
            data[i] = i;
        }
        Tensor t = Tensor.of(data, 2, 3, 4);
        assertThat(t.isContiguous()).isTrue();
        assertThat(t.slice(1, 1, 3).toFloatArray()).containsExactly(4, 5, 6, 7, 8, 9, 10, 11, 16, 17, 18, 19, 20,
                21, 22, 23);
        assertThat(t.slice(2, 3, 4).toFloatArray()).containsExactly(3, 7, 11, 15, 19, 23);
        Tensor columns = Tensor.of(data, 6, 4).withStrides(1, 6);
        assertThat(columns.isContiguous()).isFalse();
        assertThat(columns.slice(0, 0, 2).toFloatArray()).containsExactly(0, 6, 12, 18, 1, 7, 13, 19);
    }

    @Test
    void directBuffersStartAtTheirPosition() {
        FloatBuffer buffer = ByteBuffer.allocateDirect(40).order(ByteOrder.nativeOrder()).asFloatBuffer();
        for (int i = 0; i < 10; i++) {
            buffer.put(i, i * 1.5f);
        }
        buffer.position(4);
        Tensor t = Tensor.of(buffer);
        assertThat(t.shape()).containsExactly(6);
        assertThat(t.toFloatArray()).containsExactly(6f, 7.5f, 9f, 10.5f, 12f, 13.5f);
        assertThat(t.toDirect().toFloatArray()).containsExactly(t.toFloatArray());
        assertThatThrownBy(() -> Tensor.of(buffer, 7)).isInstanceOf(InvalidArgumentException.class)
                .hasMessageContaining("expected elements within [0, 6) of the buffer, got elements 0 to 6");
    }

    @Test
    void sixteenBitFloats() {
        float[] values = {1f, -2.5f, 3.14159f, 65504f, 1e-3f, 0f};
        Tensor bf16 = Tensor.bfloat16(values, 6);
        float[] back = bf16.toFloatArray();
        for (int i = 0; i < values.length; i++) {
            assertThat(back[i]).isCloseTo(values[i], org.assertj.core.data.Percentage.withPercentage(0.4));
        }
        assertThat(HalfFloats.toBFloat16(1.00390625f)).as("ties round to even").isEqualTo((short) 0x3F80);
        assertThat(HalfFloats.float16ToFloat((short) 0x3C00)).isEqualTo(1f);
        assertThat(HalfFloats.float16ToFloat((short) 0xC000)).isEqualTo(-2f);
        assertThat(HalfFloats.float16ToFloat((short) 0x7BFF)).isEqualTo(65504f);
        assertThat(HalfFloats.float16ToFloat((short) 0x0001)).isEqualTo(0x1p-24f);
        assertThat(Float.isInfinite(HalfFloats.float16ToFloat((short) 0x7C00))).isTrue();
    }

    @Test
    void attentionShapesAndLevels() {
        AttentionShape s = AttentionShape.of(2, 100, 4, 2, 32, 16);
        assertThat(s.levels()).isEqualTo(8);
        assertThat(s.queryShape()).containsExactly(2, 100, 2, 32);
        assertThat(s.valueShape()).containsExactly(2, 100, 4, 16);
        assertThat(s.levelScaleShape()).containsExactly(2, 100, 4, 8);
        assertThat(AttentionShape.minLevels(1)).isEqualTo(1);
        assertThat(AttentionShape.levelsForPosition(0)).isEqualTo(1);
        assertThat(AttentionShape.levelsForPosition(1000)).isEqualTo(11);
        assertThat(AttentionShape.levelsForPosition((1 << 20) - 1)).isEqualTo(21);
        AttentionShape packed = AttentionShape.of(1, 200, 2, 1, 32, 16, 9).withCuSeqlens(0, 5, 70, 200);
        assertThat(packed.numSequences()).isEqualTo(3);
        assertThat(packed).isEqualTo(AttentionShape.of(1, 200, 2, 1, 32, 16, 9).withCuSeqlens(0, 5, 70, 200));
        assertThat(packed.stateShape(9)).containsExactly(3, 2, 9, 32, 16);
        assertThatThrownBy(() -> AttentionShape.of(1, -1, 1, 1, 1, 1, 1))
                .isInstanceOf(InvalidArgumentException.class).hasMessage("AttentionShape.length: expected >= 0, got -1");
    }
}
