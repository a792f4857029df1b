package dev.meshauth.spire.svid;

import io.spiffe.spiffeid.SpiffeId;

import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * A validated X509-SVID with its key.
 *
 * @param spiffeId the leaf's SPIFFE ID
 * @param identity the security identity number if the path is {@code /identity/<n>}
 * @param chain    leaf first, then intermediates (not the root)
 * @param key      the leaf's private key
 * @param hint     SPIRE's hint, possibly empty
 */
public record WorkloadSvid(SpiffeId spiffeId, OptionalLong identity, List<X509Certificate> chain, PrivateKey key,
        String hint) {
    /** Copies the chain; requires at least the leaf. */
    public WorkloadSvid {
        Objects.requireNonNull(spiffeId, "spiffeId");
        chain = List.copyOf(chain);
        if (chain.isEmpty()) {
            throw new IllegalArgumentException("chain must contain the leaf");
        }
        Objects.requireNonNull(key, "key");
        hint = hint == null ? "" : hint;
    }

    /** The leaf certificate. */
    public X509Certificate leaf() {
        return chain.getFirst();
    }

    /** Leaf NotAfter. */
    public Instant notAfter() {
        return leaf().getNotAfter().toInstant();
    }

    /** Leaf NotBefore. */
    public Instant notBefore() {
        return leaf().getNotBefore().toInstant();
    }

    /** Leaf serial number, hex. */
    public String serial() {
        return leaf().getSerialNumber().toString(16);
    }

    /** True if the chain (by encoding) and expiry equal {@code other}'s: same material. */
    public boolean sameMaterial(WorkloadSvid other) {
        if (other == null || other.chain.size() != chain.size()) {
            return false;
        }
        for (int i = 0; i < chain.size(); i++) {
            if (!chain.get(i).equals(other.chain.get(i))) {
                return false;
            }
        }
        return true;
    }
}
