package dev.meshauth.spire.svid;

import io.spiffe.spiffeid.SpiffeId;

import java.security.cert.CertificateException;
import java.util.Optional;

/**
 * Our own verdict that a peer's certificate is not acceptable: thrown by {@link SvidTrustManager} only,
 * so a failed handshake can be classified by type (this one: the peer's certificate) rather than by the
 * text of a TLS stack's message.
 */
public final class SvidRejectedException extends CertificateException {
    private static final long serialVersionUID = 1L;

    /** What was wrong. */
    public enum Kind {
        /** Not a valid X509-SVID of the trust domain chaining to the bundle (the cause says which rule). */
        INVALID_SVID,
        /** A valid SVID, but its SPIFFE ID is not one this side accepts. */
        UNAUTHORIZED_ID
    }

    private final Kind kind;
    private final transient Optional<SpiffeId> peer;

    SvidRejectedException(Kind kind, Optional<SpiffeId> peer, String message, Throwable cause) {
        super(message, cause);
        this.kind = kind;
        this.peer = peer;
    }

    /** What was wrong. */
    public Kind kind() {
        return kind;
    }

    /** The X509-SVID rule the peer's certificate broke, for {@link Kind#INVALID_SVID}. */
    public Optional<dev.meshauth.spire.SvidRule> rule() {
        return getCause() instanceof dev.meshauth.spire.SvidException e ? Optional.of(e.rule()) : Optional.empty();
    }

    /** The peer's SPIFFE ID, if its SVID was valid. */
    public Optional<SpiffeId> peer() {
        return peer;
    }
}
