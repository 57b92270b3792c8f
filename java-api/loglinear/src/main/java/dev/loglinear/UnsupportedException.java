package dev.loglinear;

/**
 * A valid request that this build or backend cannot serve, for example the CUDA backend in a
 * CPU-only build, or a variant the backend does not implement yet. Status {@link
 * Status#UNSUPPORTED}.
 */
public class UnsupportedException extends LogLinearException {
    private static final long serialVersionUID = 1L;

    /** @param message the error message */
    public UnsupportedException(String message) {
        super(Status.UNSUPPORTED, message);
    }
}
