package dev.loglinear.cli.reference;

/**
 * A log-linear Mamba-2 problem in float64, dense C order, shapes as in docs/c-api.md, "Shapes":
 * q, k [B,T,G,K]; v [B,T,H,V]; g [B,T,H]; l [B,T,H,L].
 */
public record M2Problem(int batch, int length, int heads, int groups, int keyDim, int valueDim, int levels,
                        double scale, double[] q, double[] k, double[] v, double[] g, double[] l) {

    public M2Problem {
        if (heads % groups != 0) {
            throw new IllegalArgumentException("heads (" + heads + ") must be a multiple of groups (" + groups + ")");
        }
        check("q", q, (long) batch * length * groups * keyDim);
        check("k", k, (long) batch * length * groups * keyDim);
        check("v", v, (long) batch * length * heads * valueDim);
        check("g", g, (long) batch * length * heads);
        check("l", l, (long) batch * length * heads * levels);
    }

    private static void check(String name, double[] a, long expected) {
        if (a.length != expected) {
            throw new IllegalArgumentException(name + " has " + a.length + " elements, expected " + expected);
        }
    }

    /** Group of head h: consecutive heads share a group. */
    public int groupOf(int h) {
        return h / (heads / groups);
    }

    public long[] qkShape() {
        return new long[] {batch, length, groups, keyDim};
    }

    public long[] vShape() {
        return new long[] {batch, length, heads, valueDim};
    }

    public long[] gShape() {
        return new long[] {batch, length, heads};
    }

    public long[] lShape() {
        return new long[] {batch, length, heads, levels};
    }

    /** The first {@code n} tokens of every batch row, as a problem of its own (copied). */
    public M2Problem firstTokens(int n) {
        if (n < 1 || n > length) {
            throw new IllegalArgumentException("firstTokens: expected 1 <= n <= " + length + ", got " + n);
        }
        return new M2Problem(batch, n, heads, groups, keyDim, valueDim, levels, scale,
                prefix(q, groups * keyDim, n), prefix(k, groups * keyDim, n), prefix(v, heads * valueDim, n),
                prefix(g, heads, n), prefix(l, heads * levels, n));
    }

    /** The first {@code n} tokens of batch row {@code row}, as a problem of batch 1 (copied). */
    public M2Problem firstTokensOfRow(int row, int n) {
        if (row < 0 || row >= batch) {
            throw new IllegalArgumentException("firstTokensOfRow: expected 0 <= row < " + batch + ", got " + row);
        }
        if (n < 1 || n > length) {
            throw new IllegalArgumentException("firstTokensOfRow: expected 1 <= n <= " + length + ", got " + n);
        }
        return new M2Problem(1, n, heads, groups, keyDim, valueDim, levels, scale,
                rowPrefix(q, row, groups * keyDim, n), rowPrefix(k, row, groups * keyDim, n),
                rowPrefix(v, row, heads * valueDim, n), rowPrefix(g, row, heads, n),
                rowPrefix(l, row, heads * levels, n));
    }

    /** Tokens [0, n) of batch row {@code row} of an input laid out [batch, length, perToken]. */
    public double[] rowPrefix(double[] a, int row, int perToken, int n) {
        int start = row * length * perToken;
        return java.util.Arrays.copyOfRange(a, start, start + n * perToken);
    }

    private double[] prefix(double[] a, int perToken, int n) {
        double[] out = new double[batch * n * perToken];
        for (int b = 0; b < batch; b++) {
            System.arraycopy(a, b * length * perToken, out, b * n * perToken, n * perToken);
        }
        return out;
    }
}
