package dev.loglinear;

import java.util.Random;

/** Reproducible random inputs of a given shape, as float32 or float64 Java arrays. */
final class RandomInputs {
    private RandomInputs() {
    }

    /** q, k ~ N(0, 0.3), v ~ N(0, 1), g ~ U(-0.2, 0), l ~ U(0.5, 1.5); float32. */
    static AttentionInputs floats(AttentionShape s, long seed) {
        Random r = new Random(seed);
        return AttentionInputs.of(s, gaussian(r, Tensor.product(s.queryShape()), 0.3),
                gaussian(r, Tensor.product(s.queryShape()), 0.3), gaussian(r, Tensor.product(s.valueShape()), 1.0),
                uniform(r, Tensor.product(s.gateShape()), -0.2, 0), uniform(r, Tensor.product(s.levelScaleShape()), 0.5, 1.5));
    }

    /** The same values as {@link #floats}, in float64. */
    static AttentionInputs doubles(AttentionShape s, long seed) {
        AttentionInputs f = floats(s, seed);
        return AttentionInputs.of(s, f.q().toDoubleArray(), f.k().toDoubleArray(), f.v().toDoubleArray(),
                f.g().toDoubleArray(), f.l().toDoubleArray());
    }

    static float[] gaussian(Random r, long n, double sigma) {
        float[] x = new float[(int) n];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (sigma * r.nextGaussian());
        }
        return x;
    }

    static float[] uniform(Random r, long n, double lo, double hi) {
        float[] x = new float[(int) n];
        for (int i = 0; i < x.length; i++) {
            x[i] = (float) (lo + (hi - lo) * r.nextDouble());
        }
        return x;
    }
}
