package dev.loglinear;

/** Which log-linear attention model a call computes (docs/math.md, sections 3 and 4). */
public enum Variant {
    /** Log-linear Mamba-2: per-token decay {@code g}, level scales {@code l}. */
    MAMBA2(0),
    /** Log-linear Gated DeltaNet: Mamba-2 plus the delta rule; needs {@code beta}. */
    GATED_DELTANET(1);

    private final int code;

    Variant(int code) {
        this.code = code;
    }

    /** The {@code lla_variant} value of the C API. */
    int code() {
        return code;
    }
}
