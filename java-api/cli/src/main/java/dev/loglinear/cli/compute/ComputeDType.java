package dev.loglinear.cli.compute;

import dev.loglinear.DType;
import dev.loglinear.Tensor;
import java.util.Locale;

/**
 * The precision a golden case is computed in, as {@code llacheck --dtype} names it. Each input
 * is stored in the dtype the native library expects at that precision: everything float64 for
 * f64, everything float32 for f32, and for bf16 the log decays {@code g} in float32 and every
 * other input in bfloat16 (rounded to nearest even).
 */
public enum ComputeDType {
    F64, F32, BF16;

    /** "f64", "f32" or "bf16". */
    public String label() {
        return name().toLowerCase(Locale.ROOT);
    }

    /** The tolerance on relative Frobenius error at this precision (CPU): docs/numerics.md, "Tolerances". */
    public double tolerance() {
        return switch (this) {
            case F64 -> 1e-10;
            case F32 -> 1e-5;
            case BF16 -> 1e-2;
        };
    }

    /** The dtype input {@code name} (q, k, v, g, l, beta, do) is stored in. */
    public DType storageOf(String name) {
        return switch (this) {
            case F64 -> DType.FLOAT64;
            case F32 -> DType.FLOAT32;
            case BF16 -> name.equals("g") ? DType.FLOAT32 : DType.BFLOAT16;
        };
    }

    /** The dtype of states at this precision. */
    public DType stateDType() {
        return this == F64 ? DType.FLOAT64 : DType.FLOAT32;
    }

    /** {@code values} as a tensor of input {@code name}'s storage dtype, shaped. */
    public Tensor tensor(String name, double[] values, long[] shape) {
        return switch (storageOf(name)) {
            case FLOAT64 -> Tensor.of(values.clone(), shape);
            case FLOAT32 -> Tensor.of(toFloats(values), shape);
            case BFLOAT16 -> Tensor.bfloat16(toFloats(values), shape);
            default -> throw new IllegalStateException("no storage for " + name);
        };
    }

    /**
     * {@code values} rounded as they are when stored for input {@code name}, back in float64: the
     * inputs a float64 reference must see to judge a reduced-precision run.
     */
    public double[] rounded(String name, double[] values) {
        return tensor(name, values, new long[] {values.length}).toDoubleArray();
    }

    public static ComputeDType parse(String text) {
        for (ComputeDType d : values()) {
            if (d.label().equals(text)) {
                return d;
            }
        }
        throw new IllegalArgumentException("--dtype must be f64, f32 or bf16, got '" + text + "'");
    }

    private static float[] toFloats(double[] values) {
        float[] f = new float[values.length];
        for (int i = 0; i < f.length; i++) {
            f[i] = (float) values[i];
        }
        return f;
    }
}
