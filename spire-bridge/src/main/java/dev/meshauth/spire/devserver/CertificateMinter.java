package dev.meshauth.spire.devserver;

import org.bouncycastle.asn1.x500.X500Name;
import org.bouncycastle.asn1.x509.BasicConstraints;
import org.bouncycastle.asn1.x509.ExtendedKeyUsage;
import org.bouncycastle.asn1.x509.Extension;
import org.bouncycastle.asn1.x509.GeneralName;
import org.bouncycastle.asn1.x509.GeneralNames;
import org.bouncycastle.asn1.x509.KeyPurposeId;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.bouncycastle.cert.X509v3CertificateBuilder;
import org.bouncycastle.cert.jcajce.JcaX509CertificateConverter;
import org.bouncycastle.cert.jcajce.JcaX509ExtensionUtils;
import org.bouncycastle.cert.jcajce.JcaX509v3CertificateBuilder;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

import java.io.IOException;
import java.math.BigInteger;
import java.security.GeneralSecurityException;
import java.security.KeyPair;
import java.security.KeyPairGenerator;
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.security.spec.ECGenParameterSpec;
import java.time.Instant;
import java.util.Date;

/**
 * Mints the dev server's certificates with BouncyCastle, in exactly two well-formed profiles: its
 * self-signed CA and X509-SVID leaves (X509-SVID §4, as SPIRE's own CA issues them). Certificates that
 * break the profile, which validation tests need, are minted by the test fixtures, never here.
 */
public final class CertificateMinter {
    private static final SecureRandom RANDOM = new SecureRandom();

    private CertificateMinter() {
    }

    /** A fresh ECDSA P-256 key pair. */
    public static KeyPair newKeyPair() {
        try {
            KeyPairGenerator g = KeyPairGenerator.getInstance("EC");
            g.initialize(new ECGenParameterSpec("secp256r1"), RANDOM);
            return g.generateKeyPair();
        } catch (GeneralSecurityException e) {
            throw new IllegalStateException("ECDSA P-256 is not available in this JVM", e);
        }
    }

    /**
     * An X509-SVID leaf for {@code spiffeId}: one URI SAN, not a CA, a critical key usage with
     * digitalSignature, serverAuth and clientAuth; signed by {@code issuer}.
     */
    public static X509Certificate svid(String spiffeId, Instant notBefore, Instant notAfter, PublicKey subjectKey,
            X509Certificate issuer, PrivateKey issuerKey) {
        return mint(new X500Name("O=SPIRE,C=US"), spiffeId, false,
                KeyUsage.digitalSignature | KeyUsage.keyEncipherment | KeyUsage.keyAgreement, notBefore, notAfter,
                subjectKey, issuer, issuerKey);
    }

    /** A self-signed signing CA: the trust domain's URI SAN (no path), cA, critical keyCertSign and cRLSign. */
    public static X509Certificate selfSignedCa(String trustDomainId, String subject, Instant notBefore, Instant notAfter,
            KeyPair keys) {
        return mint(new X500Name(subject), trustDomainId, true, KeyUsage.keyCertSign | KeyUsage.cRLSign, notBefore,
                notAfter, keys.getPublic(), null, keys.getPrivate());
    }

    private static X509Certificate mint(X500Name subject, String uriSan, boolean ca, int keyUsage, Instant notBefore,
            Instant notAfter, PublicKey subjectKey, X509Certificate issuer, PrivateKey issuerKey) {
        try {
            X500Name issuerName = issuer == null ? subject : X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded());
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerName, new BigInteger(127, RANDOM),
                    Date.from(notBefore), Date.from(notAfter), subject, subjectKey);
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
            b.addExtension(Extension.keyUsage, true, new KeyUsage(keyUsage));
            if (!ca) {
                b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(
                        new KeyPurposeId[] {KeyPurposeId.id_kp_serverAuth, KeyPurposeId.id_kp_clientAuth}));
            }
            b.addExtension(Extension.subjectAlternativeName, false,
                    new GeneralNames(new GeneralName(GeneralName.uniformResourceIdentifier, uriSan)));
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(subjectKey));
            if (issuer != null) {
                b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(issuer));
            }
            return new JcaX509CertificateConverter().getCertificate(
                    b.build(new JcaContentSignerBuilder("SHA256withECDSA").build(issuerKey)));
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("minting a certificate failed: " + e.getMessage(), e);
        }
    }
}
