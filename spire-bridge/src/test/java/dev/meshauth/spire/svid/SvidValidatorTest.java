package dev.meshauth.spire.svid;

import dev.meshauth.spire.SpiffeIds;
import dev.meshauth.spire.SvidException;
import dev.meshauth.spire.SvidRule;
import dev.meshauth.testing.certs.CertSpec;
import dev.meshauth.testing.certs.CertSpec.Eku;
import dev.meshauth.testing.certs.TestCa;
import io.spiffe.spiffeid.TrustDomain;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.List;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** One row per X509-SVID / SPIFFE ID rule: each bad certificate is refused with the rule it broke. */
class SvidValidatorTest {
    private static final Instant NOW = Instant.parse("2026-11-26T12:00:00Z");
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    private static final TestCa CA = TestCa.create(TD.toIdString(), NOW.minusSeconds(3600));
    private static final TestCa OTHER_CA = TestCa.create(TD.toIdString(), NOW.minusSeconds(3600));
    private static final String ID = "spiffe://spiffe.cilium/identity/1000";

    private static X509Certificate mint(UnaryOperator<CertSpec> change, KeyPair kp) {
        return CA.svid(ID, NOW.minusSeconds(60), NOW.plusSeconds(3600), change, kp.getPublic());
    }

    static Stream<Arguments> badLeaves() {
        return Stream.of(
                row("two URI SANs", m -> m.withUriSans(List.of(ID, "spiffe://spiffe.cilium/identity/2")),
                        SvidRule.EXACTLY_ONE_URI_SAN),
                row("no URI SAN", m -> m.withUriSans(List.of()), SvidRule.EXACTLY_ONE_URI_SAN),
                row("leaf is a CA", m -> m.withCa(true), SvidRule.LEAF_NOT_CA),
                row("no key usage", m -> m.withKeyUsage(-1, true), SvidRule.KEY_USAGE_PRESENT),
                row("key usage not critical", m -> m.withKeyUsage(KeyUsage.digitalSignature, false),
                        SvidRule.KEY_USAGE_PRESENT),
                row("no digitalSignature", m -> m.withKeyUsage(KeyUsage.keyEncipherment, true),
                        SvidRule.LEAF_DIGITAL_SIGNATURE),
                row("keyCertSign on a leaf", m -> m.withKeyUsage(KeyUsage.digitalSignature | KeyUsage.keyCertSign, true),
                        SvidRule.LEAF_NO_CERT_SIGN),
                row("cRLSign on a leaf", m -> m.withKeyUsage(KeyUsage.digitalSignature | KeyUsage.cRLSign, true),
                        SvidRule.LEAF_NO_CRL_SIGN),
                row("EKU with serverAuth only", m -> m.withExtKeyUsage(List.of(Eku.SERVER_AUTH)),
                        SvidRule.EKU_SERVER_AND_CLIENT),
                row("EKU with codeSigning only", m -> m.withExtKeyUsage(List.of(Eku.CODE_SIGNING)),
                        SvidRule.EKU_SERVER_AND_CLIENT),
                row("expired", m -> m.withValidity(NOW.minusSeconds(7200), NOW.minusSeconds(1)), SvidRule.VALIDITY),
                row("not yet valid", m -> m.withValidity(NOW.plusSeconds(60), NOW.plusSeconds(7200)), SvidRule.VALIDITY),
                row("foreign trust domain", m -> m.withUriSans(List.of("spiffe://example.org/identity/1000")),
                        SvidRule.FOREIGN_TRUST_DOMAIN),
                row("root path", m -> m.withUriSans(List.of("spiffe://spiffe.cilium")), SvidRule.LEAF_PATH_NON_ROOT),
                row("uppercase trust domain", m -> m.withUriSans(List.of("spiffe://Spiffe.Cilium/identity/1")),
                        SvidRule.SPIFFE_ID_TRUST_DOMAIN),
                row("dot segment", m -> m.withUriSans(List.of("spiffe://spiffe.cilium/identity/../1")),
                        SvidRule.SPIFFE_ID_PATH),
                row("empty segment", m -> m.withUriSans(List.of("spiffe://spiffe.cilium//identity")),
                        SvidRule.SPIFFE_ID_PATH),
                row("trailing slash", m -> m.withUriSans(List.of("spiffe://spiffe.cilium/identity/")),
                        SvidRule.SPIFFE_ID_PATH),
                row("query", m -> m.withUriSans(List.of("spiffe://spiffe.cilium/identity?x=1")),
                        SvidRule.SPIFFE_ID_QUERY_FRAGMENT),
                row("https scheme", m -> m.withUriSans(List.of("https://spiffe.cilium/identity/1")),
                        SvidRule.SPIFFE_ID_SCHEME),
                row("port in trust domain", m -> m.withUriSans(List.of("spiffe://spiffe.cilium:443/identity/1")),
                        SvidRule.SPIFFE_ID_TRUST_DOMAIN));
    }

    private static Arguments row(String name, UnaryOperator<CertSpec> change, SvidRule rule) {
        return Arguments.of(name, change, rule);
    }

    @ParameterizedTest(name = "{0} -> {2}")
    @MethodSource("badLeaves")
    void refusesEachRuleViolation(String name, UnaryOperator<CertSpec> change, SvidRule rule) {
        KeyPair kp = TestCa.newKeyPair();
        X509Certificate leaf = mint(change, kp);
        assertThatThrownBy(() -> SvidValidator.validate(List.of(leaf), kp.getPrivate(), "", TD,
                List.of(CA.certificate()), NOW))
                .isInstanceOfSatisfying(SvidException.class, e -> assertThat(e.rule()).isEqualTo(rule))
                .hasMessageStartingWith(rule.description());
    }

    @Test
    void acceptsAGoodSvidAndReadsTheIdentity() throws Exception {
        KeyPair kp = TestCa.newKeyPair();
        WorkloadSvid svid = SvidValidator.validate(List.of(mint(m -> m, kp)), kp.getPrivate(), "h", TD,
                List.of(CA.certificate()), NOW);
        assertThat(svid.spiffeId()).hasToString(ID);
        assertThat(svid.identity()).hasValue(1000);
        assertThat(svid.hint()).isEqualTo("h");
    }

    @Test
    void theDevServersCaIssuesValidSvids() throws Exception {
        var devCa = dev.meshauth.spire.devserver.DevCa.create(TD, NOW.minusSeconds(3600));
        KeyPair kp = dev.meshauth.spire.devserver.CertificateMinter.newKeyPair();
        X509Certificate leaf = devCa.issue(io.spiffe.spiffeid.SpiffeId.parse(ID), kp.getPublic(), NOW, java.time.Duration.ofHours(1));
        WorkloadSvid svid = SvidValidator.validate(List.of(leaf), kp.getPrivate(), "", TD, List.of(devCa.certificate()), NOW);
        assertThat(svid.identity()).hasValue(1000);
    }

    @Test
    void chainFromAnotherCaDoesNotVerify() {
        KeyPair kp = TestCa.newKeyPair();
        X509Certificate leaf = mint(m -> m, kp);
        assertThatThrownBy(() -> SvidValidator.validate(List.of(leaf), kp.getPrivate(), "", TD,
                List.of(OTHER_CA.certificate()), NOW))
                .isInstanceOfSatisfying(SvidException.class, e -> assertThat(e.rule()).isEqualTo(SvidRule.CHAIN_VERIFIES));
    }

    @Test
    void extraNonCaCertificateInTheChainIsRefused() {
        KeyPair kp = TestCa.newKeyPair();
        X509Certificate leaf = mint(m -> m, kp);
        X509Certificate other = mint(m -> m, TestCa.newKeyPair());
        assertThatThrownBy(() -> SvidValidator.validate(List.of(leaf, other), kp.getPrivate(), "", TD,
                List.of(CA.certificate()), NOW))
                .isInstanceOfSatisfying(SvidException.class, e -> assertThat(e.rule()).isEqualTo(SvidRule.SIGNING_CERT_CA));
    }

    @Test
    void aKeyOnAnotherCurveIsRefusedAsNotMatching() throws Exception {
        KeyPair kp = TestCa.newKeyPair();
        X509Certificate leaf = mint(m -> m, kp);
        java.security.KeyPairGenerator g = java.security.KeyPairGenerator.getInstance("EC");
        g.initialize(new java.security.spec.ECGenParameterSpec("secp384r1"));
        assertThatThrownBy(() -> SvidValidator.validate(List.of(leaf), g.generateKeyPair().getPrivate(), "",
                TD, List.of(CA.certificate()), NOW))
                .isInstanceOfSatisfying(SvidException.class, e -> assertThat(e.rule()).isEqualTo(SvidRule.KEY_MATCHES));
    }

    @Test
    void keyThatDoesNotMatchTheLeafIsRefused() {
        KeyPair kp = TestCa.newKeyPair();
        X509Certificate leaf = mint(m -> m, kp);
        assertThatThrownBy(() -> SvidValidator.validate(List.of(leaf), TestCa.newKeyPair().getPrivate(), "",
                TD, List.of(CA.certificate()), NOW))
                .isInstanceOfSatisfying(SvidException.class, e -> assertThat(e.rule()).isEqualTo(SvidRule.KEY_MATCHES));
    }

    @ParameterizedTest(name = "scalar {0}")
    @org.junit.jupiter.params.provider.ValueSource(strings = {"zero", "n", "d+n", "negative"})
    void aPrivateScalarOutsideTheCurveOrderIsRefusedAsNotMatching(String which) throws Exception {
        // Found by DelegatedIdentityFuzzTest: a scalar >= n reached the fixed-point multiplier, which threw.
        KeyPair kp = TestCa.newKeyPair();
        X509Certificate leaf = mint(m -> m, kp);
        var priv = (java.security.interfaces.ECPrivateKey) kp.getPrivate();
        java.math.BigInteger n = priv.getParams().getOrder();
        java.math.BigInteger s = switch (which) {
            case "zero" -> java.math.BigInteger.ZERO;
            case "n" -> n;
            case "d+n" -> priv.getS().add(n);
            default -> priv.getS().negate();
        };
        var bad = java.security.KeyFactory.getInstance("EC")
                .generatePrivate(new java.security.spec.ECPrivateKeySpec(s, priv.getParams()));
        assertThatThrownBy(() -> SvidValidator.validate(List.of(leaf), bad, "", TD, List.of(CA.certificate()), NOW))
                .isInstanceOfSatisfying(SvidException.class, e -> assertThat(e.rule()).isEqualTo(SvidRule.KEY_MATCHES))
                .hasMessageContaining("outside [1, n)");
    }

    @Test
    void garbageBytesAreAParseError() {
        assertThatThrownBy(() -> DerCodec.certificates(new byte[] {1, 2, 3}))
                .isInstanceOfSatisfying(SvidException.class, e -> assertThat(e.rule()).isEqualTo(SvidRule.PARSE));
        assertThatThrownBy(() -> DerCodec.privateKey(new byte[] {1, 2, 3}))
                .isInstanceOfSatisfying(SvidException.class, e -> assertThat(e.rule()).isEqualTo(SvidRule.PARSE));
    }

    @Test
    void identityPathConvention() throws Exception {
        assertThat(SpiffeIds.identityOf(SpiffeIds.parse("spiffe://td/identity/42"))).hasValue(42);
        assertThat(SpiffeIds.identityOf(SpiffeIds.parse("spiffe://td/identity/042"))).isEmpty();
        assertThat(SpiffeIds.identityOf(SpiffeIds.parse("spiffe://td/cilium-agent"))).isEmpty();
        assertThat(SpiffeIds.identityOf(SpiffeIds.parse("spiffe://td/identity/4294967296"))).isEmpty();
        assertThat(SpiffeIds.forIdentity(TD, 7)).hasToString("spiffe://spiffe.cilium/identity/7");
    }
}
