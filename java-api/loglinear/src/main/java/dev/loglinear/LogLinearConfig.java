package dev.loglinear;

import java.util.Objects;

/**
 * What to compute and where: variant, scale, backend, GPU math mode and CPU threads.
 * Immutable; build one with {@link #builder()}:
 *
 * <pre>{@code
 * LogLinearConfig config = LogLinearConfig.builder()
 *         .variant(Variant.MAMBA2)
 *         .scale(1.0 / Math.sqrt(64))
 *         .backend(Backend.CPU)
 *         .threads(4)
 *         .build();
 * }</pre>
 *
 * The sizes of a call (batch, length, heads, groups, dimensions, levels) are not part of the
 * configuration: they travel with the data, in {@link AttentionShape}.
 */
public final class LogLinearConfig {
    private final Variant variant;
    private final double scale;
    private final Backend backend;
    private final MathMode mathMode;
    private final int threads;

    private LogLinearConfig(Builder b) {
        this.variant = b.variant;
        this.scale = b.scale;
        this.backend = b.backend;
        this.mathMode = b.mathMode;
        this.threads = b.threads;
    }

    /** Mamba-2, scale 1.0, backend AUTO, default math, all hardware threads. */
    public static LogLinearConfig defaults() {
        return builder().build();
    }

    /** A builder holding the {@link #defaults()}. */
    public static Builder builder() {
        return new Builder();
    }

    /** A builder holding this configuration, to derive a variation of it. */
    public Builder toBuilder() {
        return new Builder().variant(variant).scale(scale).backend(backend).mathMode(mathMode).threads(threads);
    }

    /** The attention variant. */
    public Variant variant() {
        return variant;
    }

    /** The factor multiplying every {@code q.k}. */
    public double scale() {
        return scale;
    }

    /** The backend; {@link Backend#AUTO} follows the tensors' device. */
    public Backend backend() {
        return backend;
    }

    /** The float32 precision policy on the GPU. */
    public MathMode mathMode() {
        return mathMode;
    }

    /** CPU worker threads; 0 means all hardware threads. */
    public int threads() {
        return threads;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof LogLinearConfig c && variant == c.variant && Double.compare(scale, c.scale) == 0
                && backend == c.backend && mathMode == c.mathMode && threads == c.threads;
    }

    @Override
    public int hashCode() {
        return Objects.hash(variant, scale, backend, mathMode, threads);
    }

    @Override
    public String toString() {
        return "LogLinearConfig[variant=" + variant + ", scale=" + scale + ", backend=" + backend + ", mathMode="
                + mathMode + ", threads=" + threads + "]";
    }

    /** Builds a {@link LogLinearConfig}; starts from the defaults. Not thread-safe. */
    public static final class Builder {
        private Variant variant = Variant.MAMBA2;
        private double scale = 1.0;
        private Backend backend = Backend.AUTO;
        private MathMode mathMode = MathMode.DEFAULT;
        private int threads = 0;

        private Builder() {
        }

        /** The attention variant (default {@link Variant#MAMBA2}). */
        public Builder variant(Variant variant) {
            this.variant = Objects.requireNonNull(variant, "variant");
            return this;
        }

        /** The factor multiplying every {@code q.k} (default 1.0); must be finite. */
        public Builder scale(double scale) {
            if (!Double.isFinite(scale)) {
                throw new InvalidArgumentException("scale: expected a finite number, got " + scale);
            }
            this.scale = scale;
            return this;
        }

        /** Where calls run (default {@link Backend#AUTO}). */
        public Builder backend(Backend backend) {
            this.backend = Objects.requireNonNull(backend, "backend");
            return this;
        }

        /** float32 precision policy on the GPU (default {@link MathMode#DEFAULT}). */
        public Builder mathMode(MathMode mathMode) {
            this.mathMode = Objects.requireNonNull(mathMode, "mathMode");
            return this;
        }

        /** CPU worker threads, {@code >= 0}; 0 (the default) uses all hardware threads. */
        public Builder threads(int threads) {
            if (threads < 0) {
                throw new InvalidArgumentException("threads: expected >= 0 (0 = all hardware threads), got " + threads);
            }
            this.threads = threads;
            return this;
        }

        /** The configuration. */
        public LogLinearConfig build() {
            return new LogLinearConfig(this);
        }
    }
}
