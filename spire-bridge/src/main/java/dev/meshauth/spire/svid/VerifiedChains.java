package dev.meshauth.spire.svid;

import io.spiffe.spiffeid.SpiffeId;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Peer chains already verified, so a repeat handshake with the same peer certificate skips the
 * signature checks (one JDK ECDSA verify costs hundreds of microseconds). Keyed by the SHA-256 of the
 * chain's DER and by the trust bundle it was checked against; an entry is never used past the chain's
 * earliest NotAfter, and a bundle change makes every entry unreachable. Bounded: cleared when full.
 * Optional: a {@link SvidTrustManager} without one verifies every chain in full.
 */
public final class VerifiedChains {
    private static final int MAX = 4096;

    private record Verified(SpiffeId id, Instant notAfter) {
    }

    private final Map<String, Verified> cache = new ConcurrentHashMap<>();

    /** The SPIFFE ID of a chain verified against {@code roots} and still valid at {@code now}. */
    public Optional<SpiffeId> lookup(X509Certificate[] chain, List<X509Certificate> roots, Instant now) {
        Verified v = cache.get(key(chain, roots));
        return v != null && now.isBefore(v.notAfter()) ? Optional.of(v.id()) : Optional.empty();
    }

    /** Records a chain that passed full validation. */
    public void remember(X509Certificate[] chain, List<X509Certificate> roots, SpiffeId id) {
        if (cache.size() >= MAX) {
            cache.clear();
        }
        Instant notAfter = Instant.MAX;
        for (X509Certificate c : chain) {
            Instant na = c.getNotAfter().toInstant();
            if (na.isBefore(notAfter)) {
                notAfter = na;
            }
        }
        cache.put(key(chain, roots), new Verified(id, notAfter));
    }

    private static String key(X509Certificate[] chain, List<X509Certificate> roots) {
        try {
            MessageDigest md = MessageDigest.getInstance("SHA-256");
            for (X509Certificate c : chain) {
                md.update(c.getEncoded());
            }
            return HexFormat.of().formatHex(md.digest()) + "/" + System.identityHashCode(roots) + "/" + roots.hashCode();
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("hashing a certificate chain failed", e);
        }
    }
}
