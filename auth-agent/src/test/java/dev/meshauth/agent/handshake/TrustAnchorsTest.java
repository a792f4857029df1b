package dev.meshauth.agent.handshake;

import dev.meshauth.spire.devserver.CertificateMinter;
import dev.meshauth.spire.devserver.DevCa;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** Which bundle root a validated chain hangs from, when two CA generations share a subject name. */
class TrustAnchorsTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    private static final Instant NOW = Instant.parse("2026-11-26T10:00:00Z");
    private static final DevCa OLD = DevCa.create(TD, NOW.minusSeconds(7200));
    private static final DevCa NEW = DevCa.create(TD, NOW.minusSeconds(60));

    private static X509Certificate leaf(DevCa ca) {
        return ca.issue(io.spiffe.spiffeid.SpiffeId.parse("spiffe://spiffe.cilium/identity/1000"),
                CertificateMinter.newKeyPair().getPublic(), NOW, Duration.ofHours(1));
    }

    @Test
    void theKeyIdentifierTellsGenerationsWithTheSameSubjectApart() {
        assertThat(OLD.certificate().getSubjectX500Principal()).isEqualTo(NEW.certificate().getSubjectX500Principal());
        List<X509Certificate> bundle = List.of(OLD.certificate(), NEW.certificate());
        assertThat(TrustAnchors.anchorOf(List.of(leaf(OLD)), bundle)).contains(TrustAnchors.fingerprint(OLD.certificate()));
        assertThat(TrustAnchors.anchorOf(List.of(leaf(NEW)), bundle)).contains(TrustAnchors.fingerprint(NEW.certificate()));
        assertThat(TrustAnchors.anchorOf(List.of(leaf(NEW)), List.of(NEW.certificate(), OLD.certificate())))
                .contains(TrustAnchors.fingerprint(NEW.certificate()));
    }

    @Test
    void aChainFromARootNotInTheBundleHasNoAnchor() {
        assertThat(TrustAnchors.anchorOf(List.of(leaf(OLD)), List.of(NEW.certificate()))).isEmpty();
        assertThat(TrustAnchors.anchorOf(List.of(), List.of(NEW.certificate()))).isEmpty();
    }

    @Test
    void fingerprintsAreTheSha256OfTheDer() throws Exception {
        String expected = java.util.HexFormat.of().formatHex(java.security.MessageDigest.getInstance("SHA-256")
                .digest(OLD.certificate().getEncoded()));
        assertThat(TrustAnchors.fingerprint(OLD.certificate())).isEqualTo(expected).hasSize(64);
    }
}
