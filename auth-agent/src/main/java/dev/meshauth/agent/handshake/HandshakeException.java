package dev.meshauth.agent.handshake;

import dev.meshauth.agent.events.FailureReason;

/** A mutual authentication that did not succeed, with a reason an operator can act on. */
public final class HandshakeException extends Exception {
    private static final long serialVersionUID = 1L;

    private final FailureReason reason;

    /** A failure for {@code reason}. */
    public HandshakeException(FailureReason reason, String message, Throwable cause) {
        super(reason + ": " + message, cause);
        this.reason = reason;
    }

    /** Why. */
    public FailureReason reason() {
        return reason;
    }
}
