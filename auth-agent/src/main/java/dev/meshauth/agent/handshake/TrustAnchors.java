package dev.meshauth.agent.handshake;

import java.security.MessageDigest;
import java.security.NoSuchAlgorithmException;
import java.security.cert.CertificateEncodingException;
import java.security.cert.X509Certificate;
import java.util.Arrays;
import java.util.HexFormat;
import java.util.List;
import java.util.Optional;

/**
 * Which bundle root a chain that already passed validation hangs from, named by the SHA-256 of the root's
 * DER (the fingerprint {@code meshauth status} prints). Matching is by the top certificate's authority key
 * identifier against the roots' subject key identifiers, falling back to the issuer name where either
 * lacks the extension; no signature is checked again here (validation did that). SPIRE keeps a CA's
 * subject across key rotation, so the key identifier is what tells two generations apart.
 */
public final class TrustAnchors {
    private static final String AKI = "2.5.29.35";
    private static final String SKI = "2.5.29.14";

    private TrustAnchors() {
    }

    /** The fingerprint of the root {@code chain} (leaf first) was issued under, if it is in {@code roots}. */
    public static Optional<String> anchorOf(List<X509Certificate> chain, List<X509Certificate> roots) {
        if (chain.isEmpty()) {
            return Optional.empty();
        }
        X509Certificate top = chain.getLast();
        byte[] aki = keyId(top.getExtensionValue(AKI), true);
        X509Certificate byName = null;
        for (X509Certificate r : roots) {
            if (!r.getSubjectX500Principal().equals(top.getIssuerX500Principal())) {
                continue;
            }
            byte[] ski = keyId(r.getExtensionValue(SKI), false);
            if (aki != null && ski != null) {
                if (Arrays.equals(aki, ski)) {
                    return Optional.of(fingerprint(r));
                }
            } else if (byName == null) {
                byName = r;
            }
        }
        return Optional.ofNullable(byName).map(TrustAnchors::fingerprint);
    }

    /** SHA-256 of the certificate's DER, lower-case hex. */
    public static String fingerprint(X509Certificate c) {
        try {
            return HexFormat.of().formatHex(MessageDigest.getInstance("SHA-256").digest(c.getEncoded()));
        } catch (NoSuchAlgorithmException | CertificateEncodingException e) {
            throw new IllegalStateException("fingerprinting a certificate failed", e);
        }
    }

    /**
     * The key identifier bytes inside an extension value (an OCTET STRING wrapping either the SKI's OCTET
     * STRING, or the AKI's SEQUENCE whose [0] IMPLICIT element is the key id). Null when absent or malformed.
     */
    private static byte[] keyId(byte[] extension, boolean authority) {
        if (extension == null) {
            return null;
        }
        try {
            byte[] inner = value(extension, 0, 0x04);
            if (!authority) {
                return value(inner, 0, 0x04);
            }
            byte[] seq = value(inner, 0, 0x30);
            return seq.length > 0 && (seq[0] & 0xff) == 0x80 ? value(seq, 0, 0x80) : null;
        } catch (IndexOutOfBoundsException | IllegalArgumentException e) {
            return null;
        }
    }

    /** The contents of the DER element at {@code at}, which must carry {@code tag}. */
    private static byte[] value(byte[] der, int at, int tag) {
        if ((der[at] & 0xff) != tag) {
            throw new IllegalArgumentException("tag " + der[at]);
        }
        int len = der[at + 1] & 0xff;
        int start = at + 2;
        if (len > 0x80) {
            int n = len & 0x7f;
            len = 0;
            for (int i = 0; i < n; i++) {
                len = (len << 8) | (der[start + i] & 0xff);
            }
            start += n;
        }
        return Arrays.copyOfRange(der, start, Math.addExact(start, len));
    }
}
