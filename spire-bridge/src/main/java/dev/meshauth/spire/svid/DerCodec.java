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
     * Parses one or more concatenated DER certificates, strictly: each must be one complete DER SEQUENCE,
     * and nothing may follow the last (the JDK's own parser would accept PEM text, and take a good
     * certificate followed by a truncated one or by garbage as the good one alone).
     *
     * @throws SvidException with rule PARSE if the bytes are not exactly certificates
     */
    public static List<X509Certificate> certificates(byte[] der) throws SvidException {
        List<X509Certificate> out = new ArrayList<>();
        CertificateFactory x509;
        try {
            x509 = CertificateFactory.getInstance("X.509");
        } catch (CertificateException e) {
            throw new IllegalStateException("the JDK has no X.509 certificate factory", e);
        }
        int at = 0;
        while (at < der.length) {
            int end = endOfSequence(der, at, out.size());
            try {
                Certificate c = x509.generateCertificate(new ByteArrayInputStream(der, at, end - at));
                out.add((X509Certificate) c);
            } catch (CertificateException e) {
                throw new SvidException(SvidRule.PARSE, "certificate " + (out.size() + 1) + " (bytes " + at + " to " + end
                        + "): " + e.getMessage(), e);
            }
            at = end;
        }
        if (out.isEmpty()) {
            throw new SvidException(SvidRule.PARSE, "no certificate in " + der.length + " bytes");
        }
        return out;
    }

    /** Where the DER SEQUENCE starting at {@code at} ends (exclusive), if it is one that fits. */
    private static int endOfSequence(byte[] der, int at, int index) throws SvidException {
        String which = "certificate " + (index + 1) + " at byte " + at;
        if ((der[at] & 0xff) != 0x30) {
            throw new SvidException(SvidRule.PARSE, which + ": not a DER SEQUENCE (tag 0x"
                    + Integer.toHexString(der[at] & 0xff) + "; PEM text or garbage?)");
        }
        if (at + 1 >= der.length) {
            throw new SvidException(SvidRule.PARSE, which + ": truncated in its length");
        }
        int first = der[at + 1] & 0xff;
        long length;
        int header;
        if (first < 0x80) {
            length = first;
            header = 2;
        } else {
            int n = first & 0x7f;
            if (n == 0 || n > 4 || at + 2 + n > der.length) {
                throw new SvidException(SvidRule.PARSE, which + ": bad or truncated DER length");
            }
            length = 0;
            for (int i = 0; i < n; i++) {
                length = (length << 8) | (der[at + 2 + i] & 0xff);
            }
            header = 2 + n;
        }
        long end = (long) at + header + length;
        if (end > der.length) {
            throw new SvidException(SvidRule.PARSE, which + ": truncated (" + length + " bytes declared, "
                    + (der.length - at - header) + " present)");
        }
        return (int) end;
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
