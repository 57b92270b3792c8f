package dev.loglinear;

/** Element type of a {@link Tensor}. */
public enum DType {
    /** IEEE 754 binary32. */
    FLOAT32(0, 4),
    /** IEEE 754 binary64; a float64 call accumulates and keeps its state in float64. */
    FLOAT64(1, 8),
    /** bfloat16 (the upper half of a float32), accumulated in float32. */
    BFLOAT16(2, 2),
    /** IEEE 754 binary16, accumulated in float32. */
    FLOAT16(3, 2),
    /** 64-bit signed integer: {@code cu_seqlens} and state positions. */
    INT64(4, 8);

    private final int code;
    private final int byteSize;

    DType(int code, int byteSize) {
        this.code = code;
        this.byteSize = byteSize;
    }

    /** Bytes per element. */
    public int byteSize() {
        return byteSize;
    }

    /** The {@code lla_dtype} value of the C API. */
    int code() {
        return code;
    }
}
