package dev.meshauth.spire;

import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;

import java.util.OptionalLong;
import java.util.regex.Pattern;

/**
 * Strict SPIFFE ID parsing (SPIFFE-ID.md), stricter than java-spiffe 0.8.17, which lowercases an
 * uppercase trust domain instead of refusing it, and the identity path convention Cilium uses:
 * {@code spiffe://<td>/identity/<n>}.
 */
public final class SpiffeIds {
    private static final Pattern TRUST_DOMAIN = Pattern.compile("[a-z0-9._-]+");
    private static final Pattern SEGMENT = Pattern.compile("[a-zA-Z0-9._-]+");
    private static final Pattern IDENTITY = Pattern.compile("/identity/([1-9][0-9]{0,9})");
    private static final int MAX_TRUST_DOMAIN = 255;
    private static final int MAX_LENGTH = 2048;

    private SpiffeIds() {
    }

    /**
     * Parses and checks a SPIFFE ID.
     *
     * @throws SvidException naming the broken rule
     */
    public static SpiffeId parse(String id) throws SvidException {
        if (id == null || id.isEmpty()) {
            throw new SvidException(SvidRule.SPIFFE_ID_SCHEME, "empty SPIFFE ID");
        }
        if (id.length() > MAX_LENGTH) {
            throw new SvidException(SvidRule.SPIFFE_ID_PATH, "longer than " + MAX_LENGTH + " bytes");
        }
        if (!id.startsWith("spiffe://")) {
            throw new SvidException(SvidRule.SPIFFE_ID_SCHEME, "'" + id + "'");
        }
        if (id.indexOf('?') >= 0 || id.indexOf('#') >= 0) {
            throw new SvidException(SvidRule.SPIFFE_ID_QUERY_FRAGMENT, "'" + id + "'");
        }
        String rest = id.substring("spiffe://".length());
        int slash = rest.indexOf('/');
        String td = slash < 0 ? rest : rest.substring(0, slash);
        String path = slash < 0 ? "" : rest.substring(slash);
        if (td.isEmpty() || td.length() > MAX_TRUST_DOMAIN || !TRUST_DOMAIN.matcher(td).matches()) {
            throw new SvidException(SvidRule.SPIFFE_ID_TRUST_DOMAIN, "'" + td + "' in '" + id + "'");
        }
        if (!path.isEmpty()) {
            if (path.endsWith("/")) {
                throw new SvidException(SvidRule.SPIFFE_ID_PATH, "trailing slash in '" + id + "'");
            }
            for (String seg : path.substring(1).split("/", -1)) {
                if (seg.isEmpty() || seg.equals(".") || seg.equals("..") || !SEGMENT.matcher(seg).matches()) {
                    throw new SvidException(SvidRule.SPIFFE_ID_PATH, "segment '" + seg + "' in '" + id + "'");
                }
            }
        }
        return SpiffeId.parse(id);
    }

    /**
     * The SPIFFE ID in a certificate's URI SAN (the first one; the validator has checked there is one).
     *
     * @throws SvidException if it has none or it is not a valid SPIFFE ID
     */
    public static SpiffeId ofLeaf(java.security.cert.X509Certificate cert) throws SvidException {
        try {
            if (cert.getSubjectAlternativeNames() != null) {
                for (java.util.List<?> san : cert.getSubjectAlternativeNames()) {
                    if ((Integer) san.get(0) == 6) {
                        return parse((String) san.get(1));
                    }
                }
            }
        } catch (java.security.cert.CertificateParsingException e) {
            throw new SvidException(SvidRule.PARSE, e.getMessage(), e);
        }
        throw new SvidException(SvidRule.EXACTLY_ONE_URI_SAN, "no URI SAN");
    }

    /** {@code spiffe://<td>/identity/<n>}. */
    public static SpiffeId forIdentity(TrustDomain td, long identity) {
        if (identity <= 0 || identity > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("security identity must be 1..2^32-1, got " + identity);
        }
        return SpiffeId.parse(td.toIdString() + "/identity/" + identity);
    }

    /** The security identity number in an {@code /identity/<n>} path, if the ID has that form. */
    public static OptionalLong identityOf(SpiffeId id) {
        var m = IDENTITY.matcher(id.getPath());
        if (!m.matches()) {
            return OptionalLong.empty();
        }
        long n = Long.parseLong(m.group(1));
        return n <= 0xFFFF_FFFFL ? OptionalLong.of(n) : OptionalLong.empty();
    }
}
