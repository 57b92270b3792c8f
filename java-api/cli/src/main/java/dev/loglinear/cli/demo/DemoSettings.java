package dev.loglinear.cli.demo;

import dev.loglinear.cli.compute.ComputeDType;

/**
 * The sizes and options of one demo run.
 *
 * @param length          tokens of the long sequence
 * @param heads           H
 * @param groups          G (query/key groups)
 * @param dim             K = V
 * @param precision       dtype of the long run
 * @param referenceLength tokens checked against the O(T^2) float64 formula
 * @param seed            random seed of the inputs
 * @param progressBars    whether to draw progress bars
 */
public record DemoSettings(int length, int heads, int groups, int dim, ComputeDType precision, int referenceLength,
                           long seed, boolean progressBars) {
    public DemoSettings {
        if (length < 2) {
            throw new IllegalArgumentException("--length: expected at least 2 tokens, got " + length);
        }
        if (heads < 1 || groups < 1 || heads % groups != 0) {
            throw new IllegalArgumentException("--heads must be a positive multiple of --groups, got heads " + heads
                    + ", groups " + groups);
        }
        if (dim < 1) {
            throw new IllegalArgumentException("--dim: expected >= 1, got " + dim);
        }
        if (referenceLength < 1) {
            throw new IllegalArgumentException("--reference-length: expected >= 1, got " + referenceLength);
        }
    }
}
