package dev.meshauth.bpf.auth;

import java.time.Instant;
import java.util.Objects;

/**
 * The value of an auth map entry: Cilium's {@code struct auth_info}, one u64 expiration in utime.
 *
 * @param expiration when the authentication stops being valid; the datapath passes traffic while
 *                   {@code now < expiration}
 */
public record AuthInfo(UTime expiration) {
    /** Requires an expiration. */
    public AuthInfo {
        Objects.requireNonNull(expiration, "expiration");
    }

    /** An entry expiring at {@code t} (truncated to the 512 ns tick). */
    public static AuthInfo expiringAt(Instant t) {
        return new AuthInfo(UTime.fromInstant(t));
    }

    /** The expiration as an instant. */
    public Instant expiresAt() {
        return expiration.toInstant();
    }

    /** The datapath's test: valid while {@code now < expiration}. */
    public boolean isValidAt(Instant now) {
        return UTime.fromInstant(now).isBefore(expiration);
    }
}
