package dev.loglinear.cli.reference;

import java.util.SplittableRandom;

/**
 * Random, non-zero Mamba-2 inputs of a given shape in float64: q, k ~ N(0, 1/K) (so q.k is of
 * order one), v ~ N(0, 1), per-token decays exp(g) in [0.90, 0.999], level scales in [0.5, 1.5].
 * The same seed gives the same inputs, so runs can be repeated and compared.
 */
public final class SyntheticInputs {
    private SyntheticInputs() {
    }

    public static M2Problem generate(int batch, int length, int heads, int groups, int keyDim, int valueDim,
                                     int levels, double scale, long seed) {
        SplittableRandom r = new SplittableRandom(seed);
        int qk = batch * length * groups * keyDim;
        double qkStd = 1 / Math.sqrt(keyDim);
        return new M2Problem(batch, length, heads, groups, keyDim, valueDim, levels, scale,
                gaussian(r, qk, qkStd), gaussian(r, qk, qkStd),
                gaussian(r, batch * length * heads * valueDim, 1),
                uniform(r, batch * length * heads, Math.log(0.90), Math.log(0.999)),
                uniform(r, batch * length * heads * levels, 0.5, 1.5));
    }

    /** An upstream gradient {@code dLoss/do} for {@code p}: N(0, 1) values of o's shape. */
    public static double[] upstreamGradient(M2Problem p, long seed) {
        return gaussian(new SplittableRandom(seed ^ 0x5DEECE66DL), p.v().length, 1);
    }

    private static double[] gaussian(SplittableRandom r, int n, double std) {
        double[] a = new double[n];
        for (int i = 0; i < n; i += 2) {
            // Box-Muller: two independent normals from two uniforms in (0, 1].
            double u = 1 - r.nextDouble(), w = r.nextDouble();
            double radius = Math.sqrt(-2 * Math.log(u)) * std;
            a[i] = radius * Math.cos(2 * Math.PI * w);
            if (i + 1 < n) {
                a[i + 1] = radius * Math.sin(2 * Math.PI * w);
            }
        }
        return a;
    }

    private static double[] uniform(SplittableRandom r, int n, double low, double high) {
        double[] a = new double[n];
        for (int i = 0; i < n; i++) {
            a[i] = low + (high - low) * r.nextDouble();
        }
        return a;
    }
}
