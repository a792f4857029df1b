package dev.meshauth.spire.svid;

import dev.meshauth.spire.SvidException;
import dev.meshauth.spire.SvidRule;

import java.io.ByteArrayInputStream;
import java.security.GeneralSecurityException;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.spec.PKCS8EncodedKeySpec;
import java.security.cert.Certificate;
import java.security.cert.CertificateException;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.List;

/** DER as SPIRE sends it: concatenated certificates, PKCS#8 keys. */
public final class DerCodec {
    private DerCodec() {
    }

    /**
     * Parses one or more concatenated DER certificates.
     *
     * @throws SvidException with rule PARSE if the bytes are not certificates
     */
    public static List<X509Certificate> certificates(byte[] der) throws SvidException {
        try {
            List<X509Certificate> out = new ArrayList<>();
            for (Certificate c : CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(der))) {
                out.add((X509Certificate) c);
            }
            if (out.isEmpty()) {
                throw new SvidException(SvidRule.PARSE, "no certificate in " + der.length + " bytes");
            }
            return out;
        } catch (CertificateException e) {
            throw new SvidException(SvidRule.PARSE, "certificates: " + e.getMessage(), e);
        }
    }

    /**
     * Parses a PKCS#8 DER private key (EC, RSA or Ed25519).
     *
     * @throws SvidException with rule PARSE if it is not one
     */
    public static PrivateKey privateKey(byte[] pkcs8) throws SvidException {
        for (String alg : List.of("EC", "RSA", "Ed25519")) {
            try {
                return KeyFactory.getInstance(alg).generatePrivate(new PKCS8EncodedKeySpec(pkcs8));
            } catch (GeneralSecurityException e) {
                // try the next algorithm
            }
        }
        throw new SvidException(SvidRule.PARSE, "private key is not PKCS#8 DER EC, RSA or Ed25519 (" + pkcs8.length + " bytes)");
    }

    /** Concatenated DER of {@code certs}. */
    public static byte[] concat(List<X509Certificate> certs) {
        try {
            var out = new java.io.ByteArrayOutputStream();
            for (X509Certificate c : certs) {
                out.writeBytes(c.getEncoded());
            }
            return out.toByteArray();
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException("cannot encode a parsed certificate", e);
        }
    }
}
