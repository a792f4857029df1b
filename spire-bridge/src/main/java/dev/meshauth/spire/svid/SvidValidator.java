package dev.meshauth.spire.svid;

import dev.meshauth.spire.SpiffeIds;
import dev.meshauth.spire.SvidException;
import dev.meshauth.spire.SvidRule;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;

import java.security.GeneralSecurityException;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertPath;
import java.security.cert.CertPathValidator;
import java.security.cert.CertPathValidatorException;
import java.security.cert.CertificateExpiredException;
import java.security.cert.CertificateFactory;
import java.security.cert.CertificateNotYetValidException;
import java.security.cert.CertificateParsingException;
import java.security.cert.PKIXParameters;
import java.security.cert.TrustAnchor;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Collection;
import java.util.Date;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * Checks X509-SVIDs against the SPIFFE X509-SVID profile and a trust bundle, one named rule at a time.
 * Used on everything received from SPIRE and on every peer certificate in the mutual TLS handshake.
 *
 * <p>java-spiffe 0.8.17 checks the leaf profile only when parsing its own SVIDs, and not at all for
 * peers; it checks neither key usage criticality nor EKU. This class checks all of them.
 */
public final class SvidValidator {
    private static final String OID_SERVER_AUTH = "1.3.6.1.5.5.7.3.1";
    private static final String OID_CLIENT_AUTH = "1.3.6.1.5.5.7.3.2";
    private static final String OID_KEY_USAGE = "2.5.29.15";
    private static final int URI_SAN = 6;
    private static final int KU_DIGITAL_SIGNATURE = 0;
    private static final int KU_KEY_CERT_SIGN = 5;
    private static final int KU_CRL_SIGN = 6;

    private SvidValidator() {
    }

    /**
     * Checks a chain (leaf first) against the X509-SVID profile, the trust domain and the bundle's
     * roots at {@code now}; returns the leaf's SPIFFE ID.
     *
     * @throws SvidException naming the first rule the chain breaks
     */
    public static SpiffeId validateChain(List<X509Certificate> chain, TrustDomain trustDomain,
            Collection<X509Certificate> roots, Instant now) throws SvidException {
        if (chain.isEmpty()) {
            throw new SvidException(SvidRule.CHAIN_EMPTY, "empty chain");
        }
        X509Certificate leaf = chain.getFirst();
        SpiffeId id = leafSpiffeId(leaf);
        if (!id.getTrustDomain().equals(trustDomain)) {
            throw new SvidException(SvidRule.FOREIGN_TRUST_DOMAIN, id + " is not in " + trustDomain.getName());
        }
        if (id.getPath().isEmpty()) {
            throw new SvidException(SvidRule.LEAF_PATH_NON_ROOT, id.toString());
        }
        checkLeafProfile(leaf, id);
        for (int i = 1; i < chain.size(); i++) {
            X509Certificate ca = chain.get(i);
            boolean[] ku = ca.getKeyUsage();
            if (ca.getBasicConstraints() < 0 || ku == null || !ku[KU_KEY_CERT_SIGN]) {
                throw new SvidException(SvidRule.SIGNING_CERT_CA, "certificate " + (i + 1) + " of the chain ("
                        + ca.getSubjectX500Principal() + ") is not a CA with keyCertSign");
            }
        }
        for (X509Certificate c : chain) {
            try {
                c.checkValidity(Date.from(now));
            } catch (CertificateExpiredException | CertificateNotYetValidException e) {
                throw new SvidException(SvidRule.VALIDITY, c.getSubjectX500Principal() + " valid "
                        + c.getNotBefore().toInstant() + " to " + c.getNotAfter().toInstant() + ", now " + now, e);
            }
        }
        verifyPath(chain, roots, now);
        return id;
    }

    /**
     * Checks a full SVID (chain and key) and returns it validated.
     *
     * @throws SvidException naming the first rule broken, including a key that does not match the leaf
     */
    public static WorkloadSvid validate(List<X509Certificate> chain, PrivateKey key, String hint,
            TrustDomain trustDomain, Collection<X509Certificate> roots, Instant now) throws SvidException {
        SpiffeId id = validateChain(chain, trustDomain, roots, now);
        checkKeyMatches(chain.getFirst(), key);
        return new WorkloadSvid(id, SpiffeIds.identityOf(id), chain, key, hint);
    }

    private static SpiffeId leafSpiffeId(X509Certificate leaf) throws SvidException {
        List<String> uris = new ArrayList<>();
        try {
            Collection<List<?>> sans = leaf.getSubjectAlternativeNames();
            if (sans != null) {
                for (List<?> san : sans) {
                    if ((Integer) san.get(0) == URI_SAN) {
                        uris.add((String) san.get(1));
                    }
                }
            }
        } catch (CertificateParsingException e) {
            throw new SvidException(SvidRule.PARSE, "subject alternative names: " + e.getMessage(), e);
        }
        if (uris.size() != 1) {
            throw new SvidException(SvidRule.EXACTLY_ONE_URI_SAN, "found " + uris.size() + " " + uris);
        }
        return SpiffeIds.parse(uris.getFirst());
    }

    private static void checkLeafProfile(X509Certificate leaf, SpiffeId id) throws SvidException {
        if (leaf.getBasicConstraints() >= 0) {
            throw new SvidException(SvidRule.LEAF_NOT_CA, id + " has cA=true");
        }
        boolean[] ku = leaf.getKeyUsage();
        Set<String> critical = leaf.getCriticalExtensionOIDs();
        if (ku == null || critical == null || !critical.contains(OID_KEY_USAGE)) {
            throw new SvidException(SvidRule.KEY_USAGE_PRESENT, id + (ku == null ? " has none" : " has it non-critical"));
        }
        if (!ku[KU_DIGITAL_SIGNATURE]) {
            throw new SvidException(SvidRule.LEAF_DIGITAL_SIGNATURE, id.toString());
        }
        if (ku.length > KU_KEY_CERT_SIGN && ku[KU_KEY_CERT_SIGN]) {
            throw new SvidException(SvidRule.LEAF_NO_CERT_SIGN, id.toString());
        }
        if (ku.length > KU_CRL_SIGN && ku[KU_CRL_SIGN]) {
            throw new SvidException(SvidRule.LEAF_NO_CRL_SIGN, id.toString());
        }
        try {
            List<String> eku = leaf.getExtendedKeyUsage();
            if (eku != null && !(eku.contains(OID_SERVER_AUTH) && eku.contains(OID_CLIENT_AUTH))) {
                throw new SvidException(SvidRule.EKU_SERVER_AND_CLIENT, id + " has " + eku);
            }
        } catch (CertificateParsingException e) {
            throw new SvidException(SvidRule.PARSE, "extended key usage: " + e.getMessage(), e);
        }
    }

    private static void verifyPath(List<X509Certificate> chain, Collection<X509Certificate> roots, Instant now)
            throws SvidException {
        if (roots.isEmpty()) {
            throw new SvidException(SvidRule.CHAIN_VERIFIES, "the trust bundle is empty");
        }
        try {
            Set<TrustAnchor> anchors = new HashSet<>();
            for (X509Certificate r : roots) {
                anchors.add(new TrustAnchor(r, null));
            }
            // The path excludes any root the peer sent along: anchors come only from our bundle.
            List<X509Certificate> path = new ArrayList<>(chain);
            while (path.size() > 1 && roots.contains(path.getLast())) {
                path.removeLast();
            }
            CertPath certPath = CertificateFactory.getInstance("X.509").generateCertPath(path);
            PKIXParameters params = new PKIXParameters(anchors);
            params.setRevocationEnabled(false);
            params.setDate(Date.from(now));
            CertPathValidator.getInstance("PKIX").validate(certPath, params);
        } catch (CertPathValidatorException e) {
            throw new SvidException(SvidRule.CHAIN_VERIFIES, e.getMessage() == null ? e.toString() : e.getMessage(), e);
        } catch (GeneralSecurityException e) {
            throw new SvidException(SvidRule.CHAIN_VERIFIES, e.toString(), e);
        }
    }

    /** BouncyCastle's form of each JDK curve seen (a handful: P-256, P-384), with its precomputed base point. */
    private static final java.util.Map<java.security.spec.ECParameterSpec, org.bouncycastle.jce.spec.ECParameterSpec> CURVES =
            new java.util.concurrent.ConcurrentHashMap<>();

    private static void checkKeyMatches(X509Certificate leaf, PrivateKey key) throws SvidException {
        if (key instanceof java.security.interfaces.ECPrivateKey ec
                && leaf.getPublicKey() instanceof java.security.interfaces.ECPublicKey pub) {
            if (!ec.getParams().getCurve().equals(pub.getParams().getCurve())) {
                throw new SvidException(SvidRule.KEY_MATCHES, "the private key is on another curve than the leaf's public key");
            }
            // The public point is the private scalar times the base point: one fixed-base multiplication, a
            // fraction of a signature and its verification (each SPIRE update validates every SVID it carries).
            var spec = CURVES.computeIfAbsent(ec.getParams(),
                    org.bouncycastle.jcajce.provider.asymmetric.util.EC5Util::convertSpec);
            // A well-formed private scalar is in [1, n): out of that range the comb refuses (and a key that
            // still multiplies to the leaf's point, s + k*n, is not one SPIRE or any TLS stack would emit).
            java.math.BigInteger s = ec.getS();
            if (s.signum() <= 0 || s.compareTo(spec.getN()) >= 0) {
                throw new SvidException(SvidRule.KEY_MATCHES, "the private key's scalar is outside [1, n) for its curve");
            }
            var q = new org.bouncycastle.math.ec.FixedPointCombMultiplier().multiply(spec.getG(), s).normalize();
            java.security.spec.ECPoint w = pub.getW();
            if (q.isInfinity()
                    || !q.getAffineXCoord().toBigInteger().equals(w.getAffineX())
                    || !q.getAffineYCoord().toBigInteger().equals(w.getAffineY())) {
                throw new SvidException(SvidRule.KEY_MATCHES, "the private key's public point is not the leaf's public key");
            }
            return;
        }
        try {
            String alg = switch (key.getAlgorithm()) {
                case "EC" -> "SHA256withECDSA";
                case "RSA" -> "SHA256withRSA";
                case "Ed25519" -> "Ed25519";
                default -> throw new SvidException(SvidRule.KEY_MATCHES, "unsupported key algorithm " + key.getAlgorithm());
            };
            byte[] probe = "meshauth key match probe".getBytes(java.nio.charset.StandardCharsets.US_ASCII);
            Signature s = Signature.getInstance(alg);
            s.initSign(key);
            s.update(probe);
            byte[] sig = s.sign();
            Signature v = Signature.getInstance(alg);
            v.initVerify(leaf.getPublicKey());
            v.update(probe);
            if (!v.verify(sig)) {
                throw new SvidException(SvidRule.KEY_MATCHES, "signature with the key does not verify with the leaf");
            }
        } catch (GeneralSecurityException e) {
            throw new SvidException(SvidRule.KEY_MATCHES, e.toString(), e);
        }
    }
}
