package dev.loglinear;

/** Precision policy for float32 inputs on the GPU; the CPU is always exact. */
public enum MathMode {
    /** CPU: exact; GPU: the fastest mode within the dtype's tolerance (docs/numerics.md). */
    DEFAULT(0),
    /** float32 on the GPU without TF32 (relative error within 1e-5). */
    EXACT_FP32(1),
    /** float32 on the GPU with TF32 tensor cores (relative error within 3e-3). */
    ALLOW_TF32(2);

    private final int code;

    MathMode(int code) {
        this.code = code;
    }

    /** The {@code lla_math_mode} value of the C API. */
    int code() {
        return code;
    }
}
