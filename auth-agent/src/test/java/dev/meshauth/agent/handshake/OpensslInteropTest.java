package dev.meshauth.agent.handshake;

import dev.meshauth.testing.certs.TestCa;
import dev.meshauth.spire.svid.WorkloadSvid;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Assumptions;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** A TLS stack we did not write (openssl s_client) against our listener. */
class OpensslInteropTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");

    private static int sClient(Path dir, WorkloadSvid client, TestCa trust, int port) throws Exception {
        Path cert = Files.writeString(dir.resolve("c.pem"), CiliumPeer.pem("CERTIFICATE", client.leaf().getEncoded()));
        Path key = Files.writeString(dir.resolve("k.pem"), CiliumPeer.pem("PRIVATE KEY", client.key().getEncoded()));
        Path ca = Files.writeString(dir.resolve("ca.pem"), CiliumPeer.pem("CERTIFICATE", trust.certificate().getEncoded()));
        Process p = new ProcessBuilder("openssl", "s_client", "-connect", "127.0.0.1:" + port, "-servername",
                "1000.spiffe.cilium", "-tls1_3", "-cert", cert.toString(), "-key", key.toString(), "-CAfile", ca.toString(),
                "-verify_return_error", "-brief").redirectErrorStream(true).start();
        p.getOutputStream().close(); // no application data: EOF right away
        p.getInputStream().readAllBytes();
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        return p.exitValue();
    }

    /**
     * openssl s_client's whole output for one handshake, reading until the server closes
     * ({@code -ign_eof}), so an alert sent after the client's Finished (TLS 1.3 client auth) is read.
     */
    private static String sClientOutput(Path dir, WorkloadSvid client, TestCa trust, int port, String sni) throws Exception {
        Path cert = Files.writeString(dir.resolve("c.pem"), CiliumPeer.pem("CERTIFICATE", client.leaf().getEncoded()));
        Path key = Files.writeString(dir.resolve("k.pem"), CiliumPeer.pem("PRIVATE KEY", client.key().getEncoded()));
        Path ca = Files.writeString(dir.resolve("ca.pem"), CiliumPeer.pem("CERTIFICATE", trust.certificate().getEncoded()));
        List<String> cmd = new java.util.ArrayList<>(List.of("openssl", "s_client", "-connect", "127.0.0.1:" + port,
                "-tls1_3", "-cert", cert.toString(), "-key", key.toString(), "-CAfile", ca.toString(), "-ign_eof"));
        cmd.addAll(sni == null ? List.of("-noservername") : List.of("-servername", sni));
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(20, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    static Stream<Arguments> refusals() {
        return Stream.of(
                // Cilium's Go server fails GetCertificate for these: crypto/tls sends internal_error.
                Arguments.of("an identity the node does not host", "1001.spiffe.cilium", "good", "alert internal error"),
                Arguments.of("a foreign trust domain", "1000.example.org", "good", "alert internal error"),
                Arguments.of("no SNI", null, "good", "alert internal error"),
                // And Go's verification of the client's certificate chooses these.
                Arguments.of("a client certificate from a foreign CA", "1000.spiffe.cilium", "foreign", "alert unknown ca"),
                Arguments.of("an expired client certificate", "1000.spiffe.cilium", "expired", "alert certificate expired"),
                Arguments.of("a client ID that is not an identity", "1000.spiffe.cilium", "ns", "alert bad certificate"));
    }

    @ParameterizedTest(name = "{0}: openssl reads ''{3}''")
    @MethodSource("refusals")
    void aRefusedClientIsToldWhyWithTheAlertGoWouldSend(String name, String sni, String cert, String alert,
            @TempDir Path dir) throws Exception {
        Assumptions.assumeTrue(Files.isExecutable(Path.of("/usr/bin/openssl")), "openssl not installed");
        Instant now = Instant.now();
        TestCa ca = TestCa.create(TD.toIdString(), now.minusSeconds(3600));
        FakeIdentityStore node = new FakeIdentityStore(TD, List.of(ca.certificate()));
        node.svids.put(1000L, MutualAuthTest.svid(ca, 1000, m -> m, Duration.ofHours(1)));
        node.local.add(1000L);
        WorkloadSvid client = switch (cert) {
            case "good" -> MutualAuthTest.svid(ca, 2000, m -> m, Duration.ofHours(1));
            case "foreign" -> MutualAuthTest.svid(TestCa.create(TD.toIdString(), now.minusSeconds(3600)), 2000, m -> m,
                    Duration.ofHours(1));
            case "expired" -> MutualAuthTest.svid(ca, 2000, m -> m.withValidity(now.minusSeconds(1800), now.minusSeconds(60)),
                    Duration.ofHours(1));
            case "ns" -> MutualAuthTest.svid(ca, 2000, m -> m.withUriSans(List.of("spiffe://spiffe.cilium/ns/x/sa/y")),
                    Duration.ofHours(1));
            default -> throw new IllegalArgumentException(cert);
        };
        try (MutualAuthServer server = MutualAuthServer.start(
                new MutualAuthServer.Options("127.0.0.1", 0, Duration.ofSeconds(2), 16), node, InstantSource.system())) {
            String out = sClientOutput(dir, client, ca, server.port(), sni);
            assertThat(out).as(out).contains(alert);
            assertThat(server.accepted()).isZero();
            assertThat(server.refused()).isEqualTo(1);
        }
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
