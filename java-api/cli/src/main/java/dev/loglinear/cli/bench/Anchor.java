package dev.loglinear.cli.bench;

import java.util.List;

/**
 * One anchor shape of docs/benchmarks.md ("Anchor shapes", "Baselines", "Targets"): bf16,
 * H = 32, K = 128, V = 64, G = 1 at B x T, with the forward+backward times of FLA's log-linear
 * kernels and of SDPA on one H200, the target (the faster of FLA / 4 and SDPA), in ms, and FLA's
 * peak device memory of forward+backward in GB.
 */
public record Anchor(int batch, int length, double flaForwardBackwardMs, double sdpaForwardBackwardMs,
                     double targetMs, double flaPeakGb) {
    public static final int HEADS = 32, GROUPS = 1, KEY_DIM = 128, VALUE_DIM = 64;

    /** The four anchors, in the order of docs/benchmarks.md (and of the native lla_bench_cuda). */
    public static final List<Anchor> ALL = List.of(
            new Anchor(16, 4096, 26.3, 8.48, 6.6, 5.35),
            new Anchor(4, 16384, 41.0, 28.7, 10.3, 4.38),
            new Anchor(1, 65536, 131, 116, 32.8, 4.41),
            new Anchor(1, 16384, 30.4, 7.37, 7.37, 1.31));

    /** "16 x 4096". */
    public String label() {
        return batch + " x " + length;
    }

    /**
     * Useful FLOP of one backward, the model of the native bench (bench/cuda_bench.cu): per token
     * and head of chunk c, 2*64*(3K + 2V) intra-chunk, 3 * 2KV for the chunk state and its
     * gradient, and 3 * 2KV per nonempty inter-chunk level (popcount of c).
     */
    public double backwardFlop() {
        double flop = 0;
        long chunks = (length + 63) / 64;
        for (long c = 0; c < chunks; c++) {
            long tokens = Math.min(64, length - c * 64);
            flop += tokens * (2.0 * 64 * (3 * KEY_DIM + 2 * VALUE_DIM)
                    + 2.0 * KEY_DIM * VALUE_DIM * (3 + 3 * Long.bitCount(c)));
        }
        return flop * batch * HEADS;
    }
}
