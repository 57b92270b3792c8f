package dev.loglinear;

import java.util.Arrays;

/**
 * The sizes of one call, from which every tensor's shape follows (docs/c-api.md, "Shapes"):
 *
 * <table>
 * <caption>Tensor shapes</caption>
 * <tr><th>tensor</th><th>shape</th></tr>
 * <tr><td>{@code q}, {@code k}</td><td>{@code [B, T, G, K]}</td></tr>
 * <tr><td>{@code v}, {@code o}</td><td>{@code [B, T, H, V]}</td></tr>
 * <tr><td>{@code g}, {@code beta}</td><td>{@code [B, T, H]}</td></tr>
 * <tr><td>{@code l}</td><td>{@code [B, T, H, L]}</td></tr>
 * <tr><td>{@code cu_seqlens}</td><td>{@code [N + 1]}, optional (then {@code B == 1})</td></tr>
 * <tr><td>state levels</td><td>{@code [N, H, Ls, K, V]}</td></tr>
 * </table>
 *
 * <p>{@code H % G == 0}: head {@code h} reads the queries and keys of group {@code h / (H / G)}.
 * {@code L >= bit_length(T - 1) + 1} ({@link #minLevels(long)}); a call that continues a state at
 * position {@code n} needs {@code L >= bit_length(n + T - 1) + 1}. With {@code cu_seqlens} the
 * {@code T} axis packs {@code N} sequences, each restarting at position 0. These rules are checked
 * by the native library when a call is made, so an {@code AttentionShape} itself accepts any
 * non-negative sizes.
 *
 * @param batch      {@code B}
 * @param length     {@code T}, tokens per batch row
 * @param heads      {@code H}
 * @param groups     {@code G}, query/key groups
 * @param keyDim     {@code K}
 * @param valueDim   {@code V}
 * @param levels     {@code L}, the last dimension of {@code l}
 * @param cuSeqlens  cumulative sequence lengths {@code [0, ..., T]} of packed sequences, or
 *                   {@code null}; copied on the way in and out
 */
public record AttentionShape(long batch, long length, long heads, long groups, long keyDim, long valueDim,
                             long levels, long[] cuSeqlens) {

    /** Rejects negative sizes; copies {@code cuSeqlens}. */
    public AttentionShape {
        long[] sizes = {batch, length, heads, groups, keyDim, valueDim, levels};
        String[] names = {"batch", "length", "heads", "groups", "keyDim", "valueDim", "levels"};
        for (int i = 0; i < sizes.length; i++) {
            if (sizes[i] < 0) {
                throw new InvalidArgumentException("AttentionShape." + names[i] + ": expected >= 0, got " + sizes[i]);
            }
        }
        cuSeqlens = cuSeqlens == null ? null : cuSeqlens.clone();
    }

    /** A shape without packed sequences. */
    public static AttentionShape of(long batch, long length, long heads, long groups, long keyDim, long valueDim,
                                    long levels) {
        return new AttentionShape(batch, length, heads, groups, keyDim, valueDim, levels, null);
    }

    /**
     * A shape with the fewest levels that {@code length} tokens from position 0 need,
     * {@link #minLevels(long) minLevels(length)}.
     */
    public static AttentionShape of(long batch, long length, long heads, long groups, long keyDim, long valueDim) {
        return of(batch, length, heads, groups, keyDim, valueDim, minLevels(length));
    }

    /**
     * The shape of one decode step for {@code numSequences} sequences: {@code B = N}, {@code T = 1}.
     * {@code levels} must cover the positions the sequences will reach.
     */
    public static AttentionShape token(long numSequences, long heads, long groups, long keyDim, long valueDim,
                                       long levels) {
        return of(numSequences, 1, heads, groups, keyDim, valueDim, levels);
    }

    /** This shape with packed sequences: {@code cuSeqlens = [0, len_0, len_0 + len_1, ..., T]}. */
    public AttentionShape withCuSeqlens(long... cuSeqlens) {
        return new AttentionShape(batch, length, heads, groups, keyDim, valueDim, levels, cuSeqlens);
    }

    /** This shape with {@code L = levels}. */
    public AttentionShape withLevels(long levels) {
        return new AttentionShape(batch, length, heads, groups, keyDim, valueDim, levels, cuSeqlens);
    }

    /** This shape with {@code T = length} (and no packed sequences). */
    public AttentionShape withLength(long length) {
        return new AttentionShape(batch, length, heads, groups, keyDim, valueDim, levels, null);
    }

    /** The cumulative sequence lengths (a copy), or {@code null} when sequences are not packed. */
    @Override
    public long[] cuSeqlens() {
        return cuSeqlens == null ? null : cuSeqlens.clone();
    }

    /** Whether the {@code T} axis packs several sequences ({@code cu_seqlens} given). */
    public boolean isPacked() {
        return cuSeqlens != null;
    }

    /** {@code N}: the number of sequences, {@code B}, or {@code cu_seqlens.length - 1} when packed. */
    public long numSequences() {
        return cuSeqlens == null ? batch : Math.max(0, cuSeqlens.length - 1);
    }

    /** {@code [B, T, G, K]}: the shape of {@code q} and {@code k}. */
    public long[] queryShape() {
        return new long[] {batch, length, groups, keyDim};
    }

    /** {@code [B, T, H, V]}: the shape of {@code v} and of the output {@code o}. */
    public long[] valueShape() {
        return new long[] {batch, length, heads, valueDim};
    }

    /** {@code [B, T, H]}: the shape of {@code g} and {@code beta}. */
    public long[] gateShape() {
        return new long[] {batch, length, heads};
    }

    /** {@code [B, T, H, L]}: the shape of {@code l}. */
    public long[] levelScaleShape() {
        return new long[] {batch, length, heads, levels};
    }

    /** {@code [N, H, stateLevels, K, V]}: the shape of a state's levels. */
    public long[] stateShape(long stateLevels) {
        return new long[] {numSequences(), heads, stateLevels, keyDim, valueDim};
    }

    /**
     * The fewest levels {@code l} needs for {@code length} tokens from position 0:
     * {@code bit_length(length - 1) + 1} (1 for a single token).
     */
    public static long minLevels(long length) {
        if (length < 1) {
            throw new InvalidArgumentException("length: expected >= 1, got " + length);
        }
        return levelsForPosition(length - 1);
    }

    /**
     * The levels a state ready for position {@code n} holds, and that {@code l} needs for a token at
     * position {@code n}: {@code bit_length(n) + 1}. For example 1 for {@code n = 0}, 11 for
     * {@code n = 1000}, 21 for {@code n = 2^20 - 1}.
     */
    public static long levelsForPosition(long n) {
        if (n < 0) {
            throw new InvalidArgumentException("position: expected >= 0, got " + n);
        }
        return 64 - Long.numberOfLeadingZeros(n) + 1;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof AttentionShape s && batch == s.batch && length == s.length && heads == s.heads
                && groups == s.groups && keyDim == s.keyDim && valueDim == s.valueDim && levels == s.levels
                && Arrays.equals(cuSeqlens, s.cuSeqlens);
    }

    @Override
    public int hashCode() {
        return Arrays.hashCode(new long[] {batch, length, heads, groups, keyDim, valueDim, levels})
                * 31 + Arrays.hashCode(cuSeqlens);
    }

    @Override
    public String toString() {
        return "AttentionShape[B=" + batch + ", T=" + length + ", H=" + heads + ", G=" + groups + ", K=" + keyDim
                + ", V=" + valueDim + ", L=" + levels
                + (cuSeqlens == null ? "" : ", cu_seqlens=" + Arrays.toString(cuSeqlens)) + "]";
    }
}
