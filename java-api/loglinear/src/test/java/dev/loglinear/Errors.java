package dev.loglinear;

import static org.assertj.core.api.Assertions.assertThat;

/** Relative Frobenius error, the measure of docs/numerics.md: ||x - ref|| / ||ref||. */
final class Errors {
    private Errors() {
    }

    static double relative(double[] actual, double[] expected) {
        assertThat(actual).hasSameSizeAs(expected);
        double diff = 0;
        double norm = 0;
        for (int i = 0; i < actual.length; i++) {
            double d = actual[i] - expected[i];
            diff += d * d;
            norm += expected[i] * expected[i];
        }
        return norm == 0 ? Math.sqrt(diff) : Math.sqrt(diff / norm);
    }

    /** Asserts every element is finite and the relative error is within {@code tolerance}. */
    static void assertClose(String what, Tensor actual, double[] expected, double tolerance) {
        double[] a = actual.toDoubleArray();
        for (int i = 0; i < a.length; i++) {
            if (!Double.isFinite(a[i])) {
                throw new AssertionError(what + ": element " + i + " is " + a[i]);
            }
        }
        assertThat(relative(a, expected)).as("%s: relative error", what).isLessThanOrEqualTo(tolerance);
    }
}
