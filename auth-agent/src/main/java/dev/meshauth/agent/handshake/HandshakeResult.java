package dev.meshauth.agent.handshake;

import java.time.Instant;

/**
 * A completed mutual authentication.
 *
 * @param peerSpiffeId the peer's verified SPIFFE ID
 * @param expiresAt    the earlier of the two leaf certificates' NotAfter: the auth entry's expiry
 */
public record HandshakeResult(String peerSpiffeId, Instant expiresAt) {
}
