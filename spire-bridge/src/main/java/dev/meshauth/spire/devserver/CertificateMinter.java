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
import org.bouncycastle.operator.ContentSigner;
import org.bouncycastle.operator.OperatorCreationException;
import org.bouncycastle.operator.jcajce.JcaContentSignerBuilder;

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
import java.util.ArrayList;
import java.util.Date;
import java.util.List;

/**
 * Mints X.509 certificates with BouncyCastle: the dev server's CA and SVIDs, and (because every field is
 * a parameter) the deliberately broken certificates the validation tests need.
 *
 * @param subject     subject DN, e.g. "O=SPIRE"; may be empty
 * @param uriSans     URI subject alternative names
 * @param ca          basicConstraints cA
 * @param keyUsage    BouncyCastle KeyUsage bits, or -1 for no extension
 * @param keyUsageCritical whether the key usage extension is critical
 * @param extKeyUsage EKU OIDs ("serverAuth", "clientAuth"), or null for no extension
 * @param notBefore   start of validity
 * @param notAfter    end of validity
 */
public record CertificateMinter(String subject, List<String> uriSans, boolean ca, int keyUsage, boolean keyUsageCritical,
        List<String> extKeyUsage, Instant notBefore, Instant notAfter) {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Copies lists. */
    public CertificateMinter {
        uriSans = List.copyOf(uriSans);
        extKeyUsage = extKeyUsage == null ? null : List.copyOf(extKeyUsage);
    }

    /** A leaf X509-SVID profile: one URI SAN, not a CA, critical digitalSignature, serverAuth+clientAuth. */
    public static CertificateMinter svid(String spiffeId, Instant notBefore, Instant notAfter) {
        return new CertificateMinter("O=SPIRE,C=US", List.of(spiffeId), false,
                KeyUsage.digitalSignature | KeyUsage.keyEncipherment | KeyUsage.keyAgreement, true,
                List.of("serverAuth", "clientAuth"), notBefore, notAfter);
    }

    /** A signing CA profile: URI SAN of the trust domain (no path), cA, keyCertSign and cRLSign. */
    public static CertificateMinter ca(String trustDomainId, String subject, Instant notBefore, Instant notAfter) {
        return new CertificateMinter(subject, List.of(trustDomainId), true, KeyUsage.keyCertSign | KeyUsage.cRLSign,
                true, null, notBefore, notAfter);
    }

    /** A copy with other URI SANs. */
    public CertificateMinter withUriSans(List<String> sans) {
        return new CertificateMinter(subject, sans, ca, keyUsage, keyUsageCritical, extKeyUsage, notBefore, notAfter);
    }

    /** A copy with another cA flag. */
    public CertificateMinter withCa(boolean isCa) {
        return new CertificateMinter(subject, uriSans, isCa, keyUsage, keyUsageCritical, extKeyUsage, notBefore, notAfter);
    }

    /** A copy with other key usage bits (-1 for none) and criticality. */
    public CertificateMinter withKeyUsage(int bits, boolean critical) {
        return new CertificateMinter(subject, uriSans, ca, bits, critical, extKeyUsage, notBefore, notAfter);
    }

    /** A copy with other EKUs (null for none). */
    public CertificateMinter withExtKeyUsage(List<String> eku) {
        return new CertificateMinter(subject, uriSans, ca, keyUsage, keyUsageCritical, eku, notBefore, notAfter);
    }

    /** A copy with another validity window. */
    public CertificateMinter withValidity(Instant from, Instant to) {
        return new CertificateMinter(subject, uriSans, ca, keyUsage, keyUsageCritical, extKeyUsage, from, to);
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
     * Signs a certificate for {@code subjectKey} with {@code issuerKey}; {@code issuer} null means
     * self-signed.
     */
    public X509Certificate sign(PublicKey subjectKey, X509Certificate issuer, PrivateKey issuerKey) {
        try {
            X500Name subjectName = new X500Name(subject);
            X500Name issuerName = issuer == null ? subjectName : X500Name.getInstance(issuer.getSubjectX500Principal().getEncoded());
            X509v3CertificateBuilder b = new JcaX509v3CertificateBuilder(issuerName, new BigInteger(127, RANDOM),
                    Date.from(notBefore), Date.from(notAfter), subjectName, subjectKey);
            JcaX509ExtensionUtils ext = new JcaX509ExtensionUtils();
            b.addExtension(Extension.basicConstraints, true, new BasicConstraints(ca));
            if (keyUsage >= 0) {
                b.addExtension(Extension.keyUsage, keyUsageCritical, new KeyUsage(keyUsage));
            }
            if (extKeyUsage != null) {
                List<KeyPurposeId> ids = new ArrayList<>();
                for (String e : extKeyUsage) {
                    ids.add(switch (e) {
                        case "serverAuth" -> KeyPurposeId.id_kp_serverAuth;
                        case "clientAuth" -> KeyPurposeId.id_kp_clientAuth;
                        case "codeSigning" -> KeyPurposeId.id_kp_codeSigning;
                        default -> throw new IllegalArgumentException("unknown EKU " + e);
                    });
                }
                b.addExtension(Extension.extendedKeyUsage, false, new ExtendedKeyUsage(ids.toArray(KeyPurposeId[]::new)));
            }
            if (!uriSans.isEmpty()) {
                GeneralName[] names = uriSans.stream().map(u -> new GeneralName(GeneralName.uniformResourceIdentifier, u))
                        .toArray(GeneralName[]::new);
                // X509-SVID §2: if the subject is empty the SAN extension must be critical.
                b.addExtension(Extension.subjectAlternativeName, subject.isEmpty(), new GeneralNames(names));
            }
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(subjectKey));
            if (issuer != null) {
                b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(issuer));
            }
            String alg = issuerKey.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
            ContentSigner signer = new JcaContentSignerBuilder(alg).build(issuerKey);
            return new JcaX509CertificateConverter().getCertificate(b.build(signer));
        } catch (GeneralSecurityException | OperatorCreationException | java.io.IOException e) {
            throw new IllegalStateException("minting a certificate failed: " + e.getMessage(), e);
        }
    }
}
