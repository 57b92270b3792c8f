package dev.loglinear.cli.compute;

/**
 * The tolerance of each result of {@code lla compute} (relative Frobenius error,
 * docs/numerics.md, "Tolerances"): the precision's, except {@code dg} of the CUDA backward, whose
 * rounding grows with the number of chunks: 2x up to 16 chunks of 64 tokens, {@code 2 sqrt(chunks
 * / 16)}x beyond (docs/cuda.md, "Precision of dg").
 *
 * @param all the tolerance of every result but dg
 * @param dg  the tolerance of dg
 */
public record Tolerances(double all, double dg) {

    /** The tolerances of {@code precision} on the CPU or the CUDA backend, for sequences of {@code length} tokens. */
    public static Tolerances of(ComputeDType precision, boolean cuda, long length) {
        double t = precision.tolerance();
        if (!cuda) {
            return new Tolerances(t, t);
        }
        double chunks = Math.ceil(length / 64.0);
        return new Tolerances(t, 2 * t * Math.max(1, Math.sqrt(chunks / 16)));
    }

    /** The tolerance of the result named {@code name} (o, dq, ..., dg, state). */
    public double of(String name) {
        return name.equals("dg") ? dg : all;
    }
}
