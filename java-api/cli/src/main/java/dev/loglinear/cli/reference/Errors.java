package dev.loglinear.cli.reference;

/** The error measure of docs/numerics.md: relative Frobenius error, NaN or Inf anywhere fails. */
public final class Errors {
    private Errors() {
    }

    /**
     * ||x - ref|| / ||ref||; the absolute error ||x|| when ref is all zero;
     * positive infinity when x has a NaN or Inf, so that every tolerance fails.
     */
    public static double relative(double[] x, double[] ref) {
        if (x.length != ref.length) {
            throw new IllegalArgumentException("cannot compare " + x.length + " elements with " + ref.length);
        }
        double diff = 0, norm = 0;
        for (int i = 0; i < x.length; i++) {
            if (!Double.isFinite(x[i])) {
                return Double.POSITIVE_INFINITY;
            }
            double d = x[i] - ref[i];
            diff += d * d;
            norm += ref[i] * ref[i];
        }
        return norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
    }
}
