package dev.meshauth.agent.handshake;

import dev.meshauth.spire.svid.WorkloadSvid;
import dev.meshauth.testing.certs.TestCa;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;

import static org.assertj.core.api.Assertions.assertThat;

class SvidKeyManagerTest {
    private static final TestCa CA = TestCa.create("spiffe://spiffe.cilium", Instant.now().minusSeconds(60));

    @Test
    void offersTheSvidForItsKeyTypeOnlyAndHandsOverItsChainAndKey() {
        WorkloadSvid svid = MutualAuthTest.svid(CA, 1000, m -> m, Duration.ofHours(1)); // ECDSA P-256
        SvidKeyManager km = new SvidKeyManager(svid);
        assertThat(km.chooseEngineServerAlias("EC", null, null)).isEqualTo("svid");
        assertThat(km.chooseEngineServerAlias("EC_EC", null, null)).isEqualTo("svid");
        assertThat(km.chooseEngineServerAlias("RSA", null, null)).as("an EC key cannot serve RSA").isNull();
        assertThat(km.chooseEngineClientAlias(new String[] {"RSA", "EC"}, null, null)).isEqualTo("svid");
        assertThat(km.chooseEngineClientAlias(new String[] {"RSA"}, null, null)).isNull();
        assertThat(km.getCertificateChain("svid")).containsExactlyElementsOf(svid.chain());
        assertThat(km.getPrivateKey("svid")).isSameAs(svid.key());
        assertThat(km.getPrivateKey("other")).isNull();
        assertThat(km.getCertificateChain("other")).isNull();
    }
}
