package dev.meshauth.spire.svid;

import dev.meshauth.testing.certs.TestCa;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** The verified-chain cache never outlives a certificate or a bundle. */
class VerifiedChainsTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");

    private static WorkloadSvid svid(TestCa ca, long identity) {
        java.security.KeyPair kp = TestCa.newKeyPair();
        String id = "spiffe://spiffe.cilium/identity/" + identity;
        Instant now = Instant.now();
        var cert = ca.svid(id, now.minusSeconds(60), now.plus(Duration.ofMinutes(10)), m -> m, kp.getPublic());
        return new WorkloadSvid(SpiffeId.parse(id), java.util.OptionalLong.of(identity), List.of(cert), kp.getPrivate(), "");
    }

    @Test
    void usedOnlyUntilNotAfterAndOnlyForTheSameBundle() {
        TestCa ca = TestCa.create(TD.toIdString(), Instant.now().minusSeconds(60));
        var svid = svid(ca, 1000);
        X509Certificate[] chain = svid.chain().toArray(X509Certificate[]::new);
        List<X509Certificate> roots = List.of(ca.certificate());
        VerifiedChains v = new VerifiedChains();
        SpiffeId id = svid.spiffeId();

        assertThat(v.lookup(chain, roots, Instant.now())).isEmpty();
        v.remember(chain, roots, id);
        assertThat(v.lookup(chain, roots, Instant.now())).contains(id);
        assertThat(v.lookup(chain, roots, svid.notAfter())).as("at NotAfter").isEmpty();
        assertThat(v.lookup(chain, new ArrayList<>(roots), Instant.now())).as("another bundle generation").isEmpty();
        var other = svid(ca, 1000);
        assertThat(v.lookup(other.chain().toArray(X509Certificate[]::new), roots, Instant.now()))
                .as("another certificate for the same identity").isEmpty();
    }
}
