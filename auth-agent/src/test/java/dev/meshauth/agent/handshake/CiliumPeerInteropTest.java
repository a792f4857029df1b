package dev.meshauth.agent.handshake;

import dev.meshauth.agent.events.FailureReason;
import dev.meshauth.spire.svid.WorkloadSvid;
import dev.meshauth.testing.Eventually;
import dev.meshauth.testing.certs.TestCa;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Wire compatibility with Cilium's handler in both directions, against a Go crypto/tls peer configured as
 * Cilium's {@code mutual_authhandler.go} (auth-agent/src/test/go/cilium-peer, built with the machine's Go):
 * Go's client against our listener, our client against Go's server; accepted and refused handshakes; the
 * key-exchange group both agree on is X25519 although Go prefers the hybrid X25519MLKEM768.
 */
class CiliumPeerInteropTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    private static final Instant NOW = Instant.now();
    private static final TestCa CA = TestCa.create(TD.toIdString(), NOW.minusSeconds(3600));
    private static final TestCa FOREIGN = TestCa.create(TD.toIdString(), NOW.minusSeconds(3600));

    private static WorkloadSvid svid(TestCa ca, long id, Duration ttl) {
        return MutualAuthTest.svid(ca, id, m -> m, ttl);
    }

    private static FakeIdentityStore node(long... local) {
        FakeIdentityStore s = new FakeIdentityStore(TD, List.of(CA.certificate()));
        for (long id : local) {
            s.svids.put(id, svid(CA, id, Duration.ofHours(1)));
            s.local.add(id);
        }
        return s;
    }

    private static MutualAuthServer listener(FakeIdentityStore node, List<InboundHandshake> seen) throws Exception {
        return MutualAuthServer.start(new MutualAuthServer.Options("127.0.0.1", 0, Duration.ofSeconds(5), 64), node,
                InstantSource.system(), seen::add);
    }

    private static List<String> goClient(Path dir, WorkloadSvid svid, long local, long remote, int port, String... more)
            throws Exception {
        List<String> args = new ArrayList<>(List.of("-connect", "127.0.0.1:" + port, "-td", TD.getName(), "-ca",
                CiliumPeer.bundle(dir, List.of(CA.certificate())).toString(), "-svid", CiliumPeer.svidFlag(dir, local, svid),
                "-remote", Long.toString(remote)));
        args.addAll(List.of(more));
        return args;
    }

    @Test
    void goClientIsAcceptedByOurListenerOverX25519(@TempDir Path dir) throws Exception {
        List<InboundHandshake> seen = new CopyOnWriteArrayList<>();
        WorkloadSvid client = svid(CA, 2000, Duration.ofMinutes(30));
        FakeIdentityStore node = node(1000);
        try (MutualAuthServer server = listener(node, seen)) {
            var run = CiliumPeer.client(goClient(dir, client, 2000, 1000, server.port()));
            assertThat(run.exit()).as(run.err()).isZero();
            assertThat(run.figures()).containsEntry("peer", "spiffe://spiffe.cilium/identity/1000")
                    .containsEntry("group", "X25519").containsEntry("cipher", "TLS_AES_128_GCM_SHA256")
                    .containsEntry("expiry", client.notAfter().truncatedTo(java.time.temporal.ChronoUnit.SECONDS).toString());
            Eventually.eventually("the listener told of the handshake", Duration.ofSeconds(5), () -> !seen.isEmpty());
            assertThat(server.accepted()).isEqualTo(1);
            assertThat(seen).singleElement().satisfies(h -> {
                assertThat(h.accepted()).isTrue();
                assertThat(h.client()).hasValue(2000);
                assertThat(h.served()).hasValue(1000);
            });
        }
    }

    @Test
    void goClientAtEightConcurrentIsAcceptedEveryTime(@TempDir Path dir) throws Exception {
        try (MutualAuthServer server = listener(node(1000), new CopyOnWriteArrayList<>())) {
            var run = CiliumPeer.client(goClient(dir, svid(CA, 2000, Duration.ofHours(1)), 2000, 1000, server.port(),
                    "-n", "400", "-c", "8"));
            assertThat(run.exit()).as(run.err()).isZero();
            assertThat(run.figures()).containsEntry("handshakes", "400").containsEntry("failed", "0");
            Eventually.eventually("server.accepted() == 400", Duration.ofSeconds(5), () -> server.accepted() == 400);
            assertThat(server.refused()).isZero();
        }
    }

    @Test
    void goClientIsRefusedForAnIdentityWeDoNotHostAndForAForeignCa(@TempDir Path dir) throws Exception {
        try (MutualAuthServer server = listener(node(1000), new CopyOnWriteArrayList<>())) {
            var notHosted = CiliumPeer.client(goClient(dir, svid(CA, 2000, Duration.ofHours(1)), 2000, 1001, server.port()));
            assertThat(notHosted.exit()).isEqualTo(1);
            assertThat(notHosted.err()).contains("internal error");

            var foreign = CiliumPeer.client(goClient(dir, svid(FOREIGN, 2000, Duration.ofHours(1)), 2000, 1000, server.port()));
            // In TLS 1.3 Go's client finishes before the server judges its certificate, as Cilium's does: the
            // client's handshake succeeds, and only the server's refusal counts.
            Eventually.eventually("server.refused() == 2", Duration.ofSeconds(5), () -> server.refused() == 2);
            assertThat(server.accepted()).isZero();
            assertThat(foreign.figures()).containsKey("handshakes");
        }
    }

    @Test
    void ourClientAuthenticatesToGoServerOverX25519(@TempDir Path dir) throws Exception {
        WorkloadSvid served = svid(CA, 1000, Duration.ofMinutes(20));
        FakeIdentityStore us = node(2000);
        try (CiliumPeer.Server go = new CiliumPeer.Server(List.of("-td", TD.getName(), "-ca",
                CiliumPeer.bundle(dir, List.of(CA.certificate())).toString(), "-svid", CiliumPeer.svidFlag(dir, 1000, served)));
                MutualAuthClient client = new MutualAuthClient(MutualAuthClient.Options.DEFAULTS, us, InstantSource.system())) {
            HandshakeResult r = client.authenticate(2000, 1000, new InetSocketAddress("127.0.0.1", go.port))
                    .get(10, TimeUnit.SECONDS);
            assertThat(r.peerSpiffeId()).isEqualTo("spiffe://spiffe.cilium/identity/1000");
            assertThat(r.expiresAt()).as("the earlier NotAfter of the two").isEqualTo(served.notAfter());
            assertThat(r.tls()).isEqualTo(new HandshakeResult.Negotiated("X25519", "TLS_AES_128_GCM_SHA256"));
            Eventually.eventually("!go.log.isEmpty()", Duration.ofSeconds(5), () -> !go.log.isEmpty());
            assertThat(go.log.getFirst()).startsWith("handshake ok").contains("client=spiffe://spiffe.cilium/identity/2000")
                    .contains("group=X25519 ").contains("cipher=TLS_AES_128_GCM_SHA256");
        }
    }

    @Test
    void goServerRefusalsReachOurClientAsTheirReasons(@TempDir Path dir) throws Exception {
        FakeIdentityStore us = node(2000);
        // The Go server holds 1000, and presents identity 1001's SVID when asked for 1001's.
        try (CiliumPeer.Server go = new CiliumPeer.Server(List.of("-td", TD.getName(), "-ca",
                CiliumPeer.bundle(dir, List.of(CA.certificate())).toString(),
                "-svid", CiliumPeer.svidFlag(dir, 1000, svid(CA, 1000, Duration.ofHours(1))),
                "-svid", CiliumPeer.svidFlag(dir, 1002, svid(CA, 1003, Duration.ofHours(1)))));
                MutualAuthClient client = new MutualAuthClient(MutualAuthClient.Options.DEFAULTS, us, InstantSource.system())) {
            InetSocketAddress peer = new InetSocketAddress("127.0.0.1", go.port);
            assertThatThrownBy(() -> client.authenticate(2000, 1001, peer).join()).isInstanceOf(CompletionException.class)
                    .cause().isInstanceOfSatisfying(HandshakeException.class,
                            e -> assertThat(e.reason()).isEqualTo(FailureReason.PEER_REFUSED));
            assertThatThrownBy(() -> client.authenticate(2000, 1002, peer).join()).cause()
                    .isInstanceOfSatisfying(HandshakeException.class,
                            e -> assertThat(e.reason()).isEqualTo(FailureReason.PEER_CERTIFICATE));
            us.svids.put(2000L, svid(FOREIGN, 2000, Duration.ofHours(1)));
            assertThatThrownBy(() -> client.authenticate(2000, 1000, peer).join()).cause()
                    .isInstanceOfSatisfying(HandshakeException.class,
                            e -> assertThat(e.reason()).isEqualTo(FailureReason.PEER_REFUSED));
            assertThat(go.log).anyMatch(l -> l.contains("handshake failed") && l.contains("1000.spiffe.cilium"));
        }
    }
}
