package dev.loglinear.cli.reference;

/**
 * The O(T^2) materialized form of log-linear Mamba-2 in float64, straight from
 * the definition in docs/math.md. Independent of the native library, so the demo can
 * check the library against it at short lengths.
 *
 * <pre>
 * o_t = sum_{s<=t} l[t, lev(t,s)] * exp(G_t - G_s) * scale * (q_t . k_s) * v_s
 * </pre>
 */
public final class MaterializedM2 {
    private MaterializedM2() {
    }

    /** lev(t, s) for s <= t: 0 on the diagonal, else bit_length(t XOR s). */
    public static int level(long t, long s) {
        return t == s ? 0 : 64 - Long.numberOfLeadingZeros(t ^ s);
    }

    public static double[] forward(M2Problem p) {
        int T = p.length(), H = p.heads(), G = p.groups(), K = p.keyDim(), V = p.valueDim(), L = p.levels();
        double[] o = new double[p.v().length];
        for (int b = 0; b < p.batch(); b++) {
            for (int h = 0; h < H; h++) {
                int grp = p.groupOf(h);
                double[] cum = cumulativeDecay(p, b, h);
                for (int t = 0; t < T; t++) {
                    int qOff = ((b * T + t) * G + grp) * K;
                    int oOff = ((b * T + t) * H + h) * V;
                    int lOff = ((b * T + t) * H + h) * L;
                    for (int s = 0; s <= t; s++) {
                        int kOff = ((b * T + s) * G + grp) * K;
                        double w = p.l()[lOff + level(t, s)] * Math.exp(cum[t] - cum[s]) * p.scale()
                                * dot(p.q(), qOff, p.k(), kOff, K);
                        int vOff = ((b * T + s) * H + h) * V;
                        for (int j = 0; j < V; j++) {
                            o[oOff + j] += w * p.v()[vOff + j];
                        }
                    }
                }
            }
        }
        return o;
    }

    /** Gradients of sum(o * dOut) with respect to q, k, v, g, l. */
    public static Gradients backward(M2Problem p, double[] dOut) {
        int T = p.length(), H = p.heads(), G = p.groups(), K = p.keyDim(), V = p.valueDim(), L = p.levels();
        Gradients d = new Gradients(new double[p.q().length], new double[p.k().length], new double[p.v().length],
                new double[p.g().length], new double[p.l().length]);
        for (int b = 0; b < p.batch(); b++) {
            for (int h = 0; h < H; h++) {
                int grp = p.groupOf(h);
                double[] cum = cumulativeDecay(p, b, h);
                double[] dCum = new double[T];
                for (int t = 0; t < T; t++) {
                    int qOff = ((b * T + t) * G + grp) * K;
                    int oOff = ((b * T + t) * H + h) * V;
                    int lOff = ((b * T + t) * H + h) * L;
                    for (int s = 0; s <= t; s++) {
                        int kOff = ((b * T + s) * G + grp) * K;
                        int vOff = ((b * T + s) * H + h) * V;
                        int lev = level(t, s);
                        double decay = Math.exp(cum[t] - cum[s]);
                        double m = p.l()[lOff + lev] * decay;
                        double qk = p.scale() * dot(p.q(), qOff, p.k(), kOff, K);
                        double dov = dot(dOut, oOff, p.v(), vOff, V);
                        for (int j = 0; j < V; j++) {
                            d.dv()[vOff + j] += m * qk * dOut[oOff + j];
                        }
                        double c = m * p.scale() * dov;
                        for (int j = 0; j < K; j++) {
                            d.dq()[qOff + j] += c * p.k()[kOff + j];
                            d.dk()[kOff + j] += c * p.q()[qOff + j];
                        }
                        d.dl()[lOff + lev] += decay * qk * dov;
                        double a = m * qk * dov;
                        dCum[t] += a;
                        dCum[s] -= a;
                    }
                }
                // G_t = g_0 + ... + g_t, so dg_r = sum_{t >= r} dG_t.
                double suffix = 0;
                for (int t = T - 1; t >= 0; t--) {
                    suffix += dCum[t];
                    d.dg()[(b * T + t) * H + h] = suffix;
                }
            }
        }
        return d;
    }

    /** Gradients, each of its input's shape. */
    public record Gradients(double[] dq, double[] dk, double[] dv, double[] dg, double[] dl) {
    }

    private static double[] cumulativeDecay(M2Problem p, int b, int h) {
        int T = p.length(), H = p.heads();
        double[] cum = new double[T];
        double acc = 0;
        for (int t = 0; t < T; t++) {
            acc += p.g()[(b * T + t) * H + h];
            cum[t] = acc;
        }
        return cum;
    }

    private static double dot(double[] a, int aOff, double[] b, int bOff, int n) {
        double s = 0;
        for (int i = 0; i < n; i++) {
            s += a[aOff + i] * b[bOff + i];
        }
        return s;
    }
}
