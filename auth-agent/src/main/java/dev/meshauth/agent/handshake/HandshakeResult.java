package dev.meshauth.agent.handshake;

import java.time.Instant;
import java.util.Set;

/**
 * A completed mutual authentication.
 *
 * @param peerSpiffeId the peer's verified SPIFFE ID
 * @param expiresAt    the earlier of the two leaf certificates' NotAfter: the auth entry's expiry
 * @param anchors      fingerprints of the bundle roots both chains were issued under (see {@link TrustAnchors});
 *                     when the bundle loses one of them, the entry goes
 * @param tls          the negotiated key-exchange group and cipher suite
 */
public record HandshakeResult(String peerSpiffeId, Instant expiresAt, Set<String> anchors, Negotiated tls) {
    /**
     * What the two sides agreed on.
     *
     * @param group  key-exchange group, e.g. X25519 ("unknown" where the TLS implementation does not say)
     * @param cipher cipher suite, e.g. TLS_AES_128_GCM_SHA256
     */
    public record Negotiated(String group, String cipher) {
        /** For results that carry no TLS of their own (tests' fake authenticators). */
        public static final Negotiated NONE = new Negotiated("none", "none");
    }

    /** Copies. */
    public HandshakeResult {
        anchors = Set.copyOf(anchors);
    }
}
