package dev.loglinear.cli.demo;

/**
 * What a model must keep in memory to decode the next token after {@code n} tokens, per layer
 * and sequence, in float32, for {@code heads} heads of key size K and value size V.
 */
public record StateMemory(long heads, long keyDim, long valueDim) {
    private static final long FLOAT32 = 4;

    /** Nonempty levels of a log-linear state ready for position n: popcount(n). */
    public static int nonemptyLevels(long n) {
        return Long.bitCount(n);
    }

    /** Log-linear attention: one K x V matrix per nonempty level. */
    public long logLinearBytes(long n) {
        return nonemptyLevels(n) * heads * keyDim * valueDim * FLOAT32;
    }

    /** Linear attention (Mamba-2): one K x V matrix, whatever n. */
    public long linearBytes() {
        return heads * keyDim * valueDim * FLOAT32;
    }

    /** Softmax attention: the KV cache, one key and one value per past token. */
    public long softmaxKvCacheBytes(long n) {
        return n * heads * (keyDim + valueDim) * FLOAT32;
    }
}
