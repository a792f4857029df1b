package dev.meshauth.bpf.datapath;

import dev.meshauth.bpf.auth.AuthType;

import java.util.Objects;

/**
 * A policy map value: allow or deny, and the authentication an allow demands.
 *
 * @param deny     true to drop
 * @param authType authentication required before traffic passes; {@link AuthType#DISABLED} for none
 */
public record PolicyVerdict(boolean deny, AuthType authType) {
    /** Allow without authentication. */
    public static final PolicyVerdict ALLOW = new PolicyVerdict(false, AuthType.DISABLED);
    /** Deny. */
    public static final PolicyVerdict DENY = new PolicyVerdict(true, AuthType.DISABLED);

    /** A deny never requires authentication (Cilium forces auth type disabled on deny entries). */
    public PolicyVerdict {
        Objects.requireNonNull(authType, "authType");
        if (deny && authType.code() != 0) {
            throw new IllegalArgumentException("a deny verdict cannot require authentication");
        }
    }

    /** Allow once the identity pair is authenticated with {@code type}. */
    public static PolicyVerdict allowWithAuth(AuthType type) {
        return new PolicyVerdict(false, type);
    }
}
