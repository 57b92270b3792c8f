package dev.loglinear;

/**
 * An argument was rejected before any work was done: a shape, dtype, stride, device, null
 * pointer, level count or position, or (found in Java) an array or buffer too small for its
 * shape or a buffer that is not direct. Status {@link Status#INVALID_ARGUMENT}.
 */
public class InvalidArgumentException extends LogLinearException {
    private static final long serialVersionUID = 1L;

    /** @param message the error message */
    public InvalidArgumentException(String message) {
        super(Status.INVALID_ARGUMENT, message);
    }
}
