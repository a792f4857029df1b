package dev.meshauth.bpf.auth;

import java.util.Objects;

/**
 * One auth map entry.
 *
 * @param key  the identity pair
 * @param info its expiration
 */
public record AuthEntry(AuthKey key, AuthInfo info) {
    /** Requires both parts. */
    public AuthEntry {
        Objects.requireNonNull(key, "key");
        Objects.requireNonNull(info, "info");
    }
}
