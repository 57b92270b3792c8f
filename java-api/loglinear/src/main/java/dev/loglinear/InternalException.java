package dev.loglinear;

/**
 * A bug in loglinear: please report it with the message. Status {@link Status#INTERNAL}.
 */
public class InternalException extends LogLinearException {
    private static final long serialVersionUID = 1L;

    /** @param message the error message */
    public InternalException(String message) {
        super(Status.INTERNAL, message);
    }
}
