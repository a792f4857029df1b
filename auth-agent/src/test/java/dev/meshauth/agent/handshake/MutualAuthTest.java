package dev.meshauth.agent.handshake;

import dev.meshauth.agent.events.FailureReason;

import dev.meshauth.spire.svid.WorkloadSvid;
import dev.meshauth.testing.certs.CertSpec;
import dev.meshauth.testing.certs.CertSpec.Eku;
import dev.meshauth.testing.certs.TestCa;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import org.bouncycastle.asn1.x509.KeyUsage;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.OptionalLong;
import java.util.concurrent.CompletionException;
import java.util.concurrent.TimeUnit;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Real TLS 1.3 handshakes on loopback between our client and server, with certificates from a real CA:
 * the deathstar's node serves identity 1000; the tiefighter (2000) authenticates to it.
 */
class MutualAuthTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    private static final Instant NOW = Instant.now();
    private static final TestCa CA = TestCa.create(TD.toIdString(), NOW.minusSeconds(3600));
    private static final TestCa FOREIGN = TestCa.create(TD.toIdString(), NOW.minusSeconds(3600));

    private FakeIdentityStore serverNode;
    private FakeIdentityStore clientNode;
    private MutualAuthServer server;
    private MutualAuthClient client;
    private final java.util.concurrent.BlockingQueue<InboundHandshake> inbound = new java.util.concurrent.LinkedBlockingQueue<>();

    static WorkloadSvid svid(TestCa ca, long identity, UnaryOperator<CertSpec> change, Duration ttl) {
        KeyPair kp = TestCa.newKeyPair();
        String id = "spiffe://spiffe.cilium/identity/" + identity;
        var cert = ca.svid(id, NOW.minusSeconds(60), NOW.plus(ttl), change, kp.getPublic());
        return new WorkloadSvid(SpiffeId.parse(id), OptionalLong.of(identity), List.of(cert), kp.getPrivate(), "");
    }

    @BeforeEach
    void setUp() throws Exception {
        serverNode = new FakeIdentityStore(TD, List.of(CA.certificate()));
        clientNode = new FakeIdentityStore(TD, List.of(CA.certificate()));
        serverNode.svids.put(1000L, svid(CA, 1000, m -> m, Duration.ofHours(1)));
        serverNode.local.add(1000L);
        clientNode.svids.put(2000L, svid(CA, 2000, m -> m, Duration.ofMinutes(30)));
        server = MutualAuthServer.start(new MutualAuthServer.Options("127.0.0.1", 0, Duration.ofSeconds(2), 16), serverNode,
                InstantSource.system(), inbound::add);
        client = new MutualAuthClient(MutualAuthClient.Options.DEFAULTS, clientNode, InstantSource.system());
    }

    @AfterEach
    void tearDown() {
        client.close();
        server.close();
    }

    private HandshakeResult auth(long local, long remote) throws Exception {
        try {
            return client.authenticate(local, remote, new InetSocketAddress("127.0.0.1", server.port())).get(10, TimeUnit.SECONDS);
        } catch (java.util.concurrent.ExecutionException e) {
            throw (Exception) e.getCause();
        }
    }

    /** The one handshake the server published (it may tell us just after the client has its answer). */
    private InboundHandshake onlyInbound() throws InterruptedException {
        InboundHandshake h = inbound.poll(10, TimeUnit.SECONDS);
        assertThat(h).as("the server published the handshake").isNotNull();
        assertThat(inbound).as("and only that one").isEmpty();
        return h;
    }

    @Test
    void aListenerOnEveryAddressIsReachedOnEachAddressTheNodeHas() throws Exception {
        try (MutualAuthServer all = MutualAuthServer.start(new MutualAuthServer.Options(null, 0, Duration.ofSeconds(2), 16),
                serverNode, InstantSource.system())) {
            assertThat(all.address().getAddress().isAnyLocalAddress()).isTrue();
            // A Cilium peer dials whichever address it knows for the node: InternalIP, ExternalIP, CiliumInternalIP.
            for (String address : List.of("127.0.0.1", "127.0.0.2", "::1")) {
                HandshakeResult r = client.authenticate(2000, 1000, new InetSocketAddress(address, all.port()))
                        .get(10, TimeUnit.SECONDS);
                assertThat(r.peerSpiffeId()).as(address).isEqualTo("spiffe://spiffe.cilium/identity/1000");
            }
            assertThat(all.accepted()).isEqualTo(3);
        }
        assertThat(server.address().getAddress().getHostAddress()).as("one address when given one").isEqualTo("127.0.0.1");
    }

    @Test
    void authenticatesAndTheEntryExpiresWithTheEarlierLeaf() throws Exception {
        HandshakeResult r = auth(2000, 1000);
        assertThat(r.peerSpiffeId()).isEqualTo("spiffe://spiffe.cilium/identity/1000");
        assertThat(r.expiresAt()).isEqualTo(clientNode.svids.get(2000L).notAfter()); // 30 min < 1 h
        assertThat(r.anchors()).as("both chains hang from the one CA").containsExactly(TrustAnchors.fingerprint(CA.certificate()));
        assertThat(server.accepted()).isEqualTo(1);
    }

    @Test
    void aThousandRotationsKeepOneServerContextPerIdentity() throws Exception {
        for (int i = 0; i < 1_000; i++) {
            serverNode.svids.put(1000L, svid(CA, 1000, m -> m, Duration.ofHours(1))); // SPIRE rotated it
            auth(2000, 1000);
        }
        assertThat(server.accepted()).isEqualTo(1_000);
        assertThat(server.contexts()).as("one context for identity 1000, not one per rotation").isEqualTo(1);
        // An identity that leaves the node: its context goes when the next one arrives.
        serverNode.local.remove(1000L);
        serverNode.local.add(1001L);
        serverNode.svids.put(1001L, svid(CA, 1001, m -> m, Duration.ofHours(1)));
        auth(2000, 1001);
        assertThat(server.contexts()).isEqualTo(1);
    }

    @Test
    void serverRefusesAnIdentityWithNoEndpointOnItsNode() throws Exception {
        serverNode.local.remove(1000L);
        assertThatThrownBy(() -> auth(2000, 1000)).isInstanceOfSatisfying(HandshakeException.class,
                e -> assertThat(e.reason()).as("the server's internal_error alert, not a bare close")
                        .isEqualTo(FailureReason.PEER_REFUSED));
        assertThat(server.refused()).isEqualTo(1);
        assertThat(onlyInbound()).satisfies(h -> {
            assertThat(h.refusal()).contains(InboundRefusal.NOT_HOSTED);
            assertThat(h.sni()).contains("1000.spiffe.cilium");
            assertThat(h.detail()).contains("no endpoint with identity 1000");
        });
    }

    @Test
    void aPeerWithoutItsSvidYetRefusesAndIsSeenToRefuse() throws Exception {
        serverNode.svids.remove(1000L); // hosted, but SPIRE has not delivered the SVID yet
        assertThatThrownBy(() -> auth(2000, 1000)).isInstanceOfSatisfying(HandshakeException.class,
                e -> assertThat(e.reason()).isEqualTo(FailureReason.PEER_REFUSED));
        assertThat(onlyInbound()).satisfies(h -> assertThat(h.refusal()).contains(InboundRefusal.NO_LOCAL_SVID));
    }

    @Test
    void acceptedHandshakesArePublishedWithBothIdentities() throws Exception {
        auth(2000, 1000);
        assertThat(onlyInbound()).satisfies(h -> {
            assertThat(h.accepted()).isTrue();
            assertThat(h.served()).hasValue(1000);
            assertThat(h.client()).hasValue(2000);
            assertThat(h.peer().getAddress().getHostAddress()).isEqualTo("127.0.0.1");
        });
    }

    @Test
    void aServerThatClosesWithoutCloseNotifyHasNotAccepted() throws Exception {
        // A TLS 1.3 server (the JDK's) that completes the handshake, then drops the TCP connection (FIN)
        // without close_notify: that is no verdict, never an acceptance.
        WorkloadSvid deathstar = serverNode.svids.get(1000L);
        var ks = java.security.KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("svid", deathstar.key(), new char[0], deathstar.chain().toArray(new java.security.cert.X509Certificate[0]));
        var kmf = javax.net.ssl.KeyManagerFactory.getInstance("PKIX");
        kmf.init(ks, new char[0]);
        var ssl = javax.net.ssl.SSLContext.getInstance("TLSv1.3");
        ssl.init(kmf.getKeyManagers(), new javax.net.ssl.TrustManager[] {new TrustingAnyClient()}, null);
        try (java.net.ServerSocket raw = new java.net.ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            var peer = new InetSocketAddress("127.0.0.1", raw.getLocalPort());
            var pending = client.authenticate(2000, 1000, peer);
            try (Socket tcp = raw.accept()) {
                var tls = (javax.net.ssl.SSLSocket) ssl.getSocketFactory().createSocket(tcp, null, tcp.getPort(), false);
                tls.setUseClientMode(false);
                tls.setNeedClientAuth(true);
                tls.startHandshake();
                tls.getOutputStream().flush();
            } // closes only the TCP socket: FIN, no close_notify
            assertThatThrownBy(() -> pending.get(10, TimeUnit.SECONDS)).cause()
                    .isInstanceOfSatisfying(HandshakeException.class, e -> {
                        assertThat(e.reason()).isEqualTo(FailureReason.PEER_REFUSED);
                        assertThat(e.getMessage()).contains("without close_notify");
                    });
        }
    }

    /** The JDK server's client check for the FIN test: the test is about the client's reading of a close. */
    private static final class TrustingAnyClient implements javax.net.ssl.X509TrustManager {
        @Override
        public void checkClientTrusted(java.security.cert.X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(java.security.cert.X509Certificate[] chain, String authType)
                throws java.security.cert.CertificateException {
            throw new java.security.cert.CertificateException("server side only");
        }

        @Override
        public java.security.cert.X509Certificate[] getAcceptedIssuers() {
            return new java.security.cert.X509Certificate[0];
        }
    }

    @Test
    void noLocalSvidFailsWithoutConnecting() {
        assertThatThrownBy(() -> auth(3000, 1000)).isInstanceOfSatisfying(HandshakeException.class,
                e -> assertThat(e.reason()).isEqualTo(FailureReason.NO_LOCAL_SVID));
        assertThat(server.accepted() + server.refused()).isZero();
    }

    static Stream<Arguments> badServerCertificates() {
        return Stream.of(
                Arguments.of("another identity's SVID", (UnaryOperator<CertSpec>)
                        m -> m.withUriSans(List.of("spiffe://spiffe.cilium/identity/1001"))),
                Arguments.of("a CA as leaf", (UnaryOperator<CertSpec>) m -> m.withCa(true)),
                Arguments.of("keyCertSign on the leaf", (UnaryOperator<CertSpec>)
                        m -> m.withKeyUsage(KeyUsage.digitalSignature | KeyUsage.keyCertSign, true)),
                Arguments.of("a foreign trust domain", (UnaryOperator<CertSpec>)
                        m -> m.withUriSans(List.of("spiffe://example.org/identity/1000"))),
                Arguments.of("expired", (UnaryOperator<CertSpec>)
                        m -> m.withValidity(NOW.minusSeconds(7200), NOW.minusSeconds(10))),
                Arguments.of("not yet valid", (UnaryOperator<CertSpec>)
                        m -> m.withValidity(NOW.plusSeconds(600), NOW.plusSeconds(7200))),
                Arguments.of("EKU without clientAuth", (UnaryOperator<CertSpec>)
                        m -> m.withExtKeyUsage(List.of(Eku.SERVER_AUTH))));
    }

    @ParameterizedTest(name = "server with {0} is rejected by the client")
    @MethodSource("badServerCertificates")
    void clientRejectsBadServerCertificates(String name, UnaryOperator<CertSpec> change) {
        serverNode.svids.put(1000L, svid(CA, 1000, change, Duration.ofHours(1)));
        assertThatThrownBy(() -> auth(2000, 1000)).isInstanceOfSatisfying(HandshakeException.class,
                e -> assertThat(e.reason()).isEqualTo(FailureReason.PEER_CERTIFICATE));
    }

    @Test
    void serverFromAForeignCaIsRejected() {
        serverNode.svids.put(1000L, svid(FOREIGN, 1000, m -> m, Duration.ofHours(1)));
        assertThatThrownBy(() -> auth(2000, 1000)).isInstanceOfSatisfying(HandshakeException.class,
                e -> assertThat(e.reason()).isEqualTo(FailureReason.PEER_CERTIFICATE));
    }

    @Test
    void clientWhoseCertificateTheServerRejectsGetsNoResult() throws Exception {
        clientNode.svids.put(2000L, svid(FOREIGN, 2000, m -> m, Duration.ofHours(1)));
        assertThatThrownBy(() -> auth(2000, 1000)).isInstanceOfSatisfying(HandshakeException.class,
                e -> assertThat(e.reason()).isEqualTo(FailureReason.PEER_REFUSED));
        assertThat(server.accepted()).isZero();
        assertThat(onlyInbound()).satisfies(h -> {
            assertThat(h.refusal()).contains(InboundRefusal.CLIENT_CERTIFICATE);
            assertThat(h.detail()).as("the validator's rule, not 'General OpenSslEngine problem'").contains("CHAIN_VERIFIES");
            assertThat(h.served()).hasValue(1000);
        });
    }

    @Test
    void clientWithANonIdentityIdIsRejectedByTheServer() throws Exception {
        clientNode.svids.put(2000L, svid(CA, 2000, m -> m.withUriSans(List.of("spiffe://spiffe.cilium/ns/x/sa/y")),
                Duration.ofHours(1)));
        assertThatThrownBy(() -> auth(2000, 1000)).isInstanceOfSatisfying(HandshakeException.class,
                e -> assertThat(e.reason()).isEqualTo(FailureReason.PEER_REFUSED));
        assertThat(onlyInbound()).satisfies(h -> assertThat(h.detail()).contains("ns/x/sa/y", "UNAUTHORIZED_ID"));
    }

    @Test
    void garbageOnThePortClosesOnlyThatConnection() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            OutputStream out = s.getOutputStream();
            out.write("GET / HTTP/1.1\r\nHost: x\r\n\r\n".getBytes(java.nio.charset.StandardCharsets.US_ASCII));
            out.flush();
            s.setSoTimeout(5000);
            assertThat(s.getInputStream().read()).as("the server closes the connection, no alert (as Go)").isEqualTo(-1);
        }
        assertThat(onlyInbound().refusal()).contains(InboundRefusal.NOT_TLS);
        assertThat(auth(2000, 1000).peerSpiffeId()).endsWith("/identity/1000");
    }

    @Test
    void silentConnectionsAreClosedAfterTheHandshakeTimeout() throws Exception {
        try (Socket s = new Socket("127.0.0.1", server.port())) {
            s.setSoTimeout(10_000);
            long t0 = System.nanoTime();
            assertThat(s.getInputStream().read()).isEqualTo(-1);
            assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(9));
        }
    }

    @Test
    void connectionRefusedIsAConnectFailure() {
        assertThatThrownBy(() -> client.authenticate(2000, 1000, new InetSocketAddress("127.0.0.1", 1)).join())
                .isInstanceOf(CompletionException.class)
                .cause().isInstanceOfSatisfying(HandshakeException.class,
                        e -> assertThat(e.reason()).isEqualTo(FailureReason.CONNECT_FAILED));
    }
}
