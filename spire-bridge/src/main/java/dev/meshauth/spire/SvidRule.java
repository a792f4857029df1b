package dev.meshauth.spire;

/**
 * The rules identity material is checked against, with the specification section each comes from
 * (SPIFFE X509-SVID.md, SPIFFE-ID.md).
 */
public enum SvidRule {
    PARSE("certificate or key could not be parsed"),
    NO_IDENTITY("no identity was issued"),
    CHAIN_EMPTY("the SVID has no certificates"),
    SPIFFE_ID_SCHEME("SPIFFE ID must use the spiffe:// scheme (SPIFFE-ID §2)"),
    SPIFFE_ID_TRUST_DOMAIN("SPIFFE ID trust domain must be non-empty, lowercase [a-z0-9._-], no port or userinfo (SPIFFE-ID §2.1)"),
    SPIFFE_ID_PATH("SPIFFE ID path segments must be non-empty, not . or .., of [a-zA-Z0-9._-], no trailing slash (SPIFFE-ID §2.2)"),
    SPIFFE_ID_QUERY_FRAGMENT("SPIFFE ID must not have a query or fragment (SPIFFE-ID §2)"),
    EXACTLY_ONE_URI_SAN("leaf must have exactly one URI SAN (X509-SVID §2)"),
    LEAF_PATH_NON_ROOT("leaf SPIFFE ID must have a non-root path (X509-SVID §2)"),
    FOREIGN_TRUST_DOMAIN("SPIFFE ID is not in the expected trust domain"),
    IDENTITY_PATH("SPIFFE ID path must be /identity/<security identity number>"),
    LEAF_NOT_CA("leaf must not be a CA: basicConstraints cA=false (X509-SVID §4.1)"),
    KEY_USAGE_PRESENT("key usage extension must be present and critical (X509-SVID §4.3)"),
    LEAF_DIGITAL_SIGNATURE("leaf key usage must include digitalSignature (X509-SVID §4.3)"),
    LEAF_NO_CERT_SIGN("leaf key usage must not include keyCertSign (X509-SVID §4.3)"),
    LEAF_NO_CRL_SIGN("leaf key usage must not include cRLSign (X509-SVID §4.3)"),
    EKU_SERVER_AND_CLIENT("extended key usage, if present, must include both serverAuth and clientAuth (X509-SVID §4.4)"),
    SIGNING_CERT_CA("intermediate signing certificate must be a CA with keyCertSign (X509-SVID §4.1, §4.3)"),
    VALIDITY("certificate is expired or not yet valid"),
    CHAIN_VERIFIES("certificate chain must verify to the trust bundle (X509-SVID §5, RFC 5280 path validation)"),
    KEY_MATCHES("private key must match the leaf certificate's public key");

    private final String description;

    SvidRule(String description) {
        this.description = description;
    }

    /** What the rule demands, in words. */
    public String description() {
        return description;
    }
}
