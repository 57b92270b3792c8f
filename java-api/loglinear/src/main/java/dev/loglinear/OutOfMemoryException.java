package dev.loglinear;

/**
 * A host or device allocation of the native library failed (not the Java heap). Status {@link
 * Status#OUT_OF_MEMORY}.
 */
public class OutOfMemoryException extends LogLinearException {
    private static final long serialVersionUID = 1L;

    /** @param message the error message */
    public OutOfMemoryException(String message) {
        super(Status.OUT_OF_MEMORY, message);
    }
}
