package dev.loglinear;

/** Status codes of the C API ({@code lla_status}); every {@link LogLinearException} carries one. */
public enum Status {
    /** Success (never carried by an exception). */
    OK(0),
    /** Bad shape, dtype, stride, device, null pointer, level count or position. */
    INVALID_ARGUMENT(1),
    /** A valid request that this build or backend cannot serve. */
    UNSUPPORTED(2),
    /** A host or device allocation failed. */
    OUT_OF_MEMORY(3),
    /** The device runtime reported an error. */
    BACKEND(4),
    /** A bug in loglinear. */
    INTERNAL(5);

    private final int code;

    Status(int code) {
        this.code = code;
    }

    /** The numeric {@code lla_status} value. */
    public int code() {
        return code;
    }

    /** The status of a numeric code; unknown codes map to {@link #INTERNAL}. */
    public static Status of(int code) {
        for (Status s : values()) {
            if (s.code == code) {
                return s;
            }
        }
        return INTERNAL;
    }
}
