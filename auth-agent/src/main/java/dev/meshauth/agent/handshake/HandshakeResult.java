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
 */
public record HandshakeResult(String peerSpiffeId, Instant expiresAt, Set<String> anchors) {
    /** Copies. */
    public HandshakeResult {
        anchors = Set.copyOf(anchors);
    }
}
