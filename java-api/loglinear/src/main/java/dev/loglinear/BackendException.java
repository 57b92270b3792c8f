package dev.loglinear;

/**
 * The device runtime (CUDA) reported an error. Status {@link Status#BACKEND}.
 */
public class BackendException extends LogLinearException {
    private static final long serialVersionUID = 1L;

    /** @param message the error message */
    public BackendException(String message) {
        super(Status.BACKEND, message);
    }
}
