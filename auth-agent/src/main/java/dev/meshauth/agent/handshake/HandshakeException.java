package dev.meshauth.agent.handshake;

/** A mutual authentication that did not succeed, with a reason an operator can act on. */
public final class HandshakeException extends Exception {
    private static final long serialVersionUID = 1L;

    /** Why a handshake failed; also the {@code reason} label of the handshake metrics. */
    public enum Reason {
        /** This node holds no SVID for the local identity. */
        NO_LOCAL_SVID,
        /** TCP connect failed or timed out. */
        CONNECT_FAILED,
        /** The peer's certificate broke a rule (chain, SPIFFE ID, profile, expiry). */
        PEER_CERTIFICATE,
        /** The peer refused us: it has no SVID for the requested identity, or rejected our certificate. */
        PEER_REFUSED,
        /** No verdict from the peer in time. */
        TIMEOUT,
        /** Any other TLS failure. */
        TLS
    }

    private final Reason reason;

    /** A failure for {@code reason}. */
    public HandshakeException(Reason reason, String message, Throwable cause) {
        super(reason + ": " + message, cause);
        this.reason = reason;
    }

    /** Why. */
    public Reason reason() {
        return reason;
    }
}
