package dev.loglinear;

/**
 * A call to loglinear failed. The message is the library's own: it names the argument, the
 * expected and the actual value (for errors found by the native library it is the text of
 * {@code lla_last_error()}, read on the failing thread). A failed call writes nothing to its
 * outputs or states.
 *
 * <p>Subclasses tell the kinds apart: {@link InvalidArgumentException},
 * {@link UnsupportedException}, {@link OutOfMemoryException}, {@link BackendException},
 * {@link InternalException}; {@link #status()} gives the C API's status code.
 */
public class LogLinearException extends RuntimeException {
    private static final long serialVersionUID = 1L;

    private final Status status;

    /**
     * @param status  the C API status of the failure
     * @param message the error message
     */
    public LogLinearException(Status status, String message) {
        super(message);
        this.status = status;
    }

    /** The C API status code of this failure. */
    public Status status() {
        return status;
    }

    /** The exception for a failed native call: the subclass of its status, with its message. */
    static LogLinearException of(int statusCode, String message) {
        Status status = Status.of(statusCode);
        return switch (status) {
            case INVALID_ARGUMENT -> new InvalidArgumentException(message);
            case UNSUPPORTED -> new UnsupportedException(message);
            case OUT_OF_MEMORY -> new OutOfMemoryException(message);
            case BACKEND -> new BackendException(message);
            case OK, INTERNAL -> new InternalException(
                    statusCode == Status.INTERNAL.code() ? message : "unknown status " + statusCode + ": " + message);
        };
    }

    /** Throws the exception of {@code statusCode} with the message the library left for this thread, unless OK. */
    static void check(int statusCode) {
        if (statusCode != Status.OK.code()) {
            throw of(statusCode, dev.loglinear.presets.global.loglinear.lla_last_error().getString());
        }
    }
}
