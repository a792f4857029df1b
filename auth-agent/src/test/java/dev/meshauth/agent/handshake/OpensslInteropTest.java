package dev.meshauth.agent.handshake;

import dev.meshauth.testing.certs.TestCa;
import dev.meshauth.spire.svid.WorkloadSvid;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Base64;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/** A TLS stack we did not write (openssl s_client) against our listener. */
class OpensslInteropTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    private static int sClient(Path dir, WorkloadSvid client, TestCa trust, int port) throws Exception {
        Path cert = Files.writeString(dir.resolve("c.pem"), pem("CERTIFICATE", client.leaf().getEncoded()));
        Path key = Files.writeString(dir.resolve("k.pem"), pem("PRIVATE KEY", client.key().getEncoded()));
        Path ca = Files.writeString(dir.resolve("ca.pem"), pem("CERTIFICATE", trust.certificate().getEncoded()));
        Process p = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername",
                "1000.spiffe.cilium", "-tls1_3", "-cert", cert.toString(), "-key", key.toString(), "-CAfile", ca.toString(),
                "-verify_return_error", "-brief").redirectErrorStream(true).start();
        p.getOutputStream().close(); // no application data: EOF right away
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }

    @Test
    void opensslClientWithAValidSvidIsAcceptedAndWithAForeignCaIsNot(@TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "openssl not installed");
        Instant now = Instant.now();
        TestCa ca = TestCa.create(TD.toIdString(), now.minusSeconds(60));
        TestCa foreign = TestCa.create(TD.toIdString(), now.minusSeconds(60));
        FakeIdentityStore node = new FakeIdentityStore(TD, List.of(ca.certificate()));
        node.svids.put(1000L, MutualAuthTest.svid(ca, 1000, m -> m, Duration.ofHours(1)));
        node.local.add(1000L);
        try (MutualAuthServer server = MutualAuthServer.start(
                new MutualAuthServer.Options("127.0.0.1", 0, Duration.ofSeconds(2), 16), node, InstantSource.system())) {
            sClient(dir, MutualAuthTest.svid(ca, 2000, m -> m, Duration.ofHours(1)), ca, server.port());
            assertThat(server.accepted()).as("openssl with a valid SVID").isEqualTo(1);

            sClient(dir, MutualAuthTest.svid(foreign, 2000, m -> m, Duration.ofHours(1)), ca, server.port());
            assertThat(server.accepted()).as("openssl with a foreign CA's SVID is not accepted").isEqualTo(1);
            assertThat(server.refused()).isPositive();
        }
    }
}
