package dev.meshauth.testing.certs;

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
import java.security.PrivateKey;
import java.security.PublicKey;
import java.security.SecureRandom;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.Date;
import java.util.List;

/**
 * Every field of a test certificate, so a test can break exactly one rule of the X509-SVID profile (two URI
 * SANs, a CA-flagged leaf, a non-critical key usage, a missing EKU, a past validity). Written for tests, on
 * their own terms: the product mints only well-formed certificates and has no such knobs.
 *
 * @param subject          subject DN, e.g. "O=SPIRE"; may be empty
 * @param uriSans          URI subject alternative names
 * @param ca               basicConstraints cA
 * @param keyUsage         BouncyCastle {@link KeyUsage} bits, or -1 for no extension
 * @param keyUsageCritical whether the key usage extension is critical
 * @param extKeyUsage      extended key usages, or null for no extension
 * @param notBefore        start of validity
 * @param notAfter         end of validity
 */
public record CertSpec(String subject, List<String> uriSans, boolean ca, int keyUsage, boolean keyUsageCritical,
        List<Eku> extKeyUsage, Instant notBefore, Instant notAfter) {
    private static final SecureRandom RANDOM = new SecureRandom();

    /** Extended key usages a test may ask for. */
    public enum Eku {
        SERVER_AUTH(KeyPurposeId.id_kp_serverAuth),
        CLIENT_AUTH(KeyPurposeId.id_kp_clientAuth),
        CODE_SIGNING(KeyPurposeId.id_kp_codeSigning);

        private final KeyPurposeId id;

        Eku(KeyPurposeId id) {
            this.id = id;
        }
    }

    /** Copies lists. */
    public CertSpec {
        uriSans = List.copyOf(uriSans);
        extKeyUsage = extKeyUsage == null ? null : List.copyOf(extKeyUsage);
    }

    /**
     * A leaf as the X509-SVID specification (§4) describes it: one URI SAN, not a CA, a critical key usage
     * with digitalSignature, serverAuth and clientAuth.
     */
    public static CertSpec svid(String spiffeId, Instant notBefore, Instant notAfter) {
        return new CertSpec("O=SPIRE,C=US", List.of(spiffeId), false,
                KeyUsage.digitalSignature | KeyUsage.keyEncipherment | KeyUsage.keyAgreement, true,
                List.of(Eku.SERVER_AUTH, Eku.CLIENT_AUTH), notBefore, notAfter);
    }

    /** A signing CA: the trust domain's URI SAN, cA, critical keyCertSign and cRLSign. */
    public static CertSpec ca(String trustDomainId, Instant notBefore, Instant notAfter) {
        return new CertSpec("CN=meshauth test CA,O=meshauth", List.of(trustDomainId), true,
                KeyUsage.keyCertSign | KeyUsage.cRLSign, true, null, notBefore, notAfter);
    }

    /** A copy with other URI SANs. */
    public CertSpec withUriSans(List<String> sans) {
        return new CertSpec(subject, sans, ca, keyUsage, keyUsageCritical, extKeyUsage, notBefore, notAfter);
    }

    /** A copy with another cA flag. */
    public CertSpec withCa(boolean isCa) {
        return new CertSpec(subject, uriSans, isCa, keyUsage, keyUsageCritical, extKeyUsage, notBefore, notAfter);
    }

    /** A copy with other key usage bits (-1 for none) and criticality. */
    public CertSpec withKeyUsage(int bits, boolean critical) {
        return new CertSpec(subject, uriSans, ca, bits, critical, extKeyUsage, notBefore, notAfter);
    }

    /** A copy with other extended key usages (null for none). */
    public CertSpec withExtKeyUsage(List<Eku> eku) {
        return new CertSpec(subject, uriSans, ca, keyUsage, keyUsageCritical, eku, notBefore, notAfter);
    }

    /** A copy with another validity window. */
    public CertSpec withValidity(Instant from, Instant to) {
        return new CertSpec(subject, uriSans, ca, keyUsage, keyUsageCritical, extKeyUsage, from, to);
    }

    /** Signs this certificate for {@code subjectKey}; {@code issuer} null means self-signed. */
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
                b.addExtension(Extension.extendedKeyUsage, false,
                        new ExtendedKeyUsage(extKeyUsage.stream().map(e -> e.id).toArray(KeyPurposeId[]::new)));
            }
            if (!uriSans.isEmpty()) {
                GeneralName[] names = uriSans.stream().map(u -> new GeneralName(GeneralName.uniformResourceIdentifier, u))
                        .toArray(GeneralName[]::new);
                b.addExtension(Extension.subjectAlternativeName, subject.isEmpty(), new GeneralNames(names));
            }
            b.addExtension(Extension.subjectKeyIdentifier, false, ext.createSubjectKeyIdentifier(subjectKey));
            if (issuer != null) {
                b.addExtension(Extension.authorityKeyIdentifier, false, ext.createAuthorityKeyIdentifier(issuer));
            }
            String alg = issuerKey.getAlgorithm().equals("EC") ? "SHA256withECDSA" : "SHA256withRSA";
            return new JcaX509CertificateConverter().getCertificate(b.build(new JcaContentSignerBuilder(alg).build(issuerKey)));
        } catch (GeneralSecurityException | OperatorCreationException | IOException e) {
            throw new IllegalStateException("minting a test certificate failed: " + e.getMessage(), e);
        }
    }
}
