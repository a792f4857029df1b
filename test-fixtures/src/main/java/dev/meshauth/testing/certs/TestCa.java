package dev.meshauth.testing.certs;

import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Duration;
import java.time.Instant;
import java.util.function.UnaryOperator;

/**
 * A self-signed ECDSA P-256 CA for tests, signing whatever a {@link CertSpec} describes, broken or not.
 *
 * @param certificate the root, to put in a trust bundle
 * @param key         its private key
 */
public record TestCa(X509Certificate certificate, PrivateKey key) {
    private static final Duration TTL = Duration.ofDays(365);

    /** A new CA for {@code trustDomainId} ("spiffe://example.org"), valid from {@code notBefore} for a year. */
    public static TestCa create(String trustDomainId, Instant notBefore) {
        KeyPair kp = newKeyPair();
        X509Certificate cert = CertSpec.ca(trustDomainId, notBefore, notBefore.plus(TTL)).sign(kp.getPublic(), null,
                kp.getPrivate());
        return new TestCa(cert, kp.getPrivate());
    }

    /** A fresh ECDSA P-256 key pair. */
    public static KeyPair newKeyPair() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"));
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ECDSA P-256 is not available in this JVM", e);
        }
    }

    /** Signs {@code spec} for {@code subjectKey}. */
    public X509Certificate sign(CertSpec spec, PublicKey subjectKey) {
        return spec.sign(subjectKey, certificate, key);
    }

    /** An X509-SVID leaf for {@code spiffeId}, changed by {@code change} (identity for a valid one). */
    public X509Certificate svid(String spiffeId, Instant notBefore, Instant notAfter, UnaryOperator<CertSpec> change,
            PublicKey subjectKey) {
        return sign(change.apply(CertSpec.svid(spiffeId, notBefore, notAfter)), subjectKey);
    }
}
