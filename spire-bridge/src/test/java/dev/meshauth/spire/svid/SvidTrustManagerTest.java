package dev.meshauth.spire.svid;

import dev.meshauth.testing.certs.TestCa;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;

import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The one SPIFFE trust decision: chain, trust domain, bundle, role rule and the optional cache. */
class SvidTrustManagerTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    private static final Instant NOW = Instant.parse("2026-12-02T00:00:00Z");
    private static final TestCa CA = TestCa.create(TD.toIdString(), NOW.minusSeconds(3600));
    private static final TestCa OTHER_CA = TestCa.create(TD.toIdString(), NOW.minusSeconds(3600));

    private static X509Certificate[] svid(TestCa ca, String id) {
        KeyPair kp = TestCa.newKeyPair();
        return new X509Certificate[] {ca.svid(id, NOW.minusSeconds(60), NOW.plus(Duration.ofHours(1)), m -> m, kp.getPublic())};
    }

    private static SvidTrustManager tm(AtomicReference<List<X509Certificate>> roots, SvidTrustManager.PeerRule clients,
            SvidTrustManager.PeerRule servers, Optional<VerifiedChains> cache) {
        return new SvidTrustManager(() -> TD, roots::get, InstantSource.fixed(NOW), clients, servers, cache);
    }

    @Test
    void acceptsAValidSvidTheRuleAllowsAndRefusesByKind() throws Exception {
        var roots = new AtomicReference<>(List.of(CA.certificate()));
        SpiffeId server = SpiffeId.parse("spiffe://spiffe.cilium/spire/server");
        SvidTrustManager t = tm(roots, SvidTrustManager.PeerRule.any(), SvidTrustManager.PeerRule.exactly(server),
                Optional.empty());
        t.checkServerTrusted(svid(CA, server.toString()), "EC");
        t.checkClientTrusted(svid(CA, "spiffe://spiffe.cilium/identity/1000"), "EC");

        assertThatThrownBy(() -> t.checkServerTrusted(svid(CA, "spiffe://spiffe.cilium/identity/1000"), "EC"))
                .isInstanceOfSatisfying(SvidRejectedException.class, e -> {
                    assertThat(e.kind()).isEqualTo(SvidRejectedException.Kind.UNAUTHORIZED_ID);
                    assertThat(e.peer()).contains(SpiffeId.parse("spiffe://spiffe.cilium/identity/1000"));
                })
                .hasMessage("server presented spiffe://spiffe.cilium/identity/1000, expected spiffe://spiffe.cilium/spire/server");
        assertThatThrownBy(() -> t.checkClientTrusted(svid(OTHER_CA, "spiffe://spiffe.cilium/identity/1000"), "EC"))
                .isInstanceOfSatisfying(SvidRejectedException.class,
                        e -> assertThat(e.kind()).isEqualTo(SvidRejectedException.Kind.INVALID_SVID));
        assertThatThrownBy(() -> t.checkClientTrusted(svid(CA, "spiffe://other.domain/identity/1000"), "EC"))
                .isInstanceOfSatisfying(SvidRejectedException.class,
                        e -> assertThat(e.kind()).isEqualTo(SvidRejectedException.Kind.INVALID_SVID));
    }

    @Test
    void theCacheNeverAcceptsAChainTheCurrentBundleWouldRefuse() throws Exception {
        var roots = new AtomicReference<>(List.of(CA.certificate()));
        SvidTrustManager t = tm(roots, SvidTrustManager.PeerRule.any(), SvidTrustManager.PeerRule.any(),
                Optional.of(new VerifiedChains()));
        X509Certificate[] chain = svid(CA, "spiffe://spiffe.cilium/identity/1000");
        t.checkClientTrusted(chain, "EC");
        t.checkClientTrusted(chain, "EC"); // from the cache
        roots.set(List.of(OTHER_CA.certificate())); // CA revoked from the bundle
        assertThatThrownBy(() -> t.checkClientTrusted(chain, "EC")).isInstanceOf(SvidRejectedException.class);
    }

    @Test
    void theRoleRuleAppliesToCachedChainsToo() throws Exception {
        var roots = new AtomicReference<>(List.of(CA.certificate()));
        VerifiedChains cache = new VerifiedChains();
        X509Certificate[] chain = svid(CA, "spiffe://spiffe.cilium/identity/1000");
        tm(roots, SvidTrustManager.PeerRule.any(), SvidTrustManager.PeerRule.any(), Optional.of(cache))
                .checkServerTrusted(chain, "EC");
        SvidTrustManager strict = tm(roots, SvidTrustManager.PeerRule.any(),
                SvidTrustManager.PeerRule.exactly(SpiffeId.parse("spiffe://spiffe.cilium/identity/2000")), Optional.of(cache));
        assertThatThrownBy(() -> strict.checkServerTrusted(chain, "EC")).isInstanceOfSatisfying(SvidRejectedException.class,
                e -> assertThat(e.kind()).isEqualTo(SvidRejectedException.Kind.UNAUTHORIZED_ID));
    }
}
