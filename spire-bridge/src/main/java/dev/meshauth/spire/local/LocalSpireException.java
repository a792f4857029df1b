package dev.meshauth.spire.local;

/**
 * A real SPIRE on this host could not be built, started or driven: the message says what failed, on
 * which process or file, and what to check (it names the SPIRE log when there is one).
 */
public final class LocalSpireException extends Exception {
    private static final long serialVersionUID = 1L;

    /** A failure with its explanation. */
    public LocalSpireException(String message) {
        super(message);
    }

    /** A failure with its explanation and cause. */
    public LocalSpireException(String message, Throwable cause) {
        super(message, cause);
    }
}
