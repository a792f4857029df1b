package dev.meshauth.agent.handshake;

import dev.meshauth.spire.svid.WorkloadSvid;
import dev.meshauth.testing.certs.TestCa;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;

import javax.net.ssl.KeyManagerFactory;
import javax.net.ssl.SNIHostName;
import javax.net.ssl.SSLContext;
import javax.net.ssl.SSLEngine;
import javax.net.ssl.SSLParameters;
import javax.net.ssl.SSLSocket;
import javax.net.ssl.TrustManager;
import javax.net.ssl.X509TrustManager;
import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.nio.ByteBuffer;
import java.security.KeyStore;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.concurrent.ConcurrentLinkedQueue;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.UnaryOperator;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 1 of the reliability campaign (docs/reliability.md): the listener attacked from seven addresses
 * at once while a legitimate peer keeps authenticating. Silent connections (10,000 a minute), random bytes,
 * truncated and oversized ClientHellos, a ClientHello dripped a byte at a time, TLS 1.2 only, and clients
 * with a foreign CA's, an expired, a CA-flagged, a two-URI and a non-identity certificate.
 *
 * <p>Held: no abusive connection is accepted; every one is refused and counted, by reason, exactly once;
 * the legitimate peer's handshakes all succeed; connections in handshake never pass the global limit; the
 * refusals are told in samples (log and events), not one line each. Runs 5 s in CI;
 * {@code -Dmeshauth.campaign.seconds=60} (bench/campaign) is the long version, which prints the figures.
 */
class ListenerAbuseCampaignTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    private static final int SECONDS = Integer.getInteger("meshauth.campaign.seconds", 5);
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(SECONDS >= 30 ? 5 : 2);
    private static final int GLOBAL = 256;
    private static final int PER_PEER = 32;

    private final Map<String, AtomicLong> attempts = Collections.synchronizedMap(new java.util.TreeMap<>());
    private final List<Throwable> abuserErrors = new CopyOnWriteArrayList<>();
    private volatile boolean stop;

    private long count(String kind) {
        return attempts.computeIfAbsent(kind, k -> new AtomicLong()).incrementAndGet();
    }

    @Test
    void theListenerRefusesAndCountsEveryAbuseWhileAPeerKeepsAuthenticating() throws Exception {
        Instant now = Instant.now();
        TestCa ca = TestCa.create(TD.toIdString(), now.minusSeconds(3600));
        FakeIdentityStore node = new FakeIdentityStore(TD, List.of(ca.certificate()));
        node.svids.put(1000L, MutualAuthTest.svid(ca, 1000, m -> m, Duration.ofHours(2)));
        node.local.add(1000L);
        FakeIdentityStore peer = new FakeIdentityStore(TD, List.of(ca.certificate()));
        peer.svids.put(2000L, MutualAuthTest.svid(ca, 2000, m -> m, Duration.ofHours(2)));
        List<InboundHandshake> told = new CopyOnWriteArrayList<>();
        try (MutualAuthServer server = MutualAuthServer.start(new MutualAuthServer.Options(null, 0, HANDSHAKE_TIMEOUT,
                GLOBAL, PER_PEER), node, InstantSource.system(), told::add);
             MutualAuthClient client = new MutualAuthClient(MutualAuthClient.Options.DEFAULTS, peer, InstantSource.system())) {
            InetSocketAddress target = new InetSocketAddress("127.0.0.1", server.port());
            byte[] hello = clientHello();
            List<Thread> threads = new ArrayList<>();
            ConcurrentLinkedQueue<Socket> open = new ConcurrentLinkedQueue<>();
            threads.add(abuser("silent", () -> silent(target, open)));
            threads.add(abuser("random-bytes", () -> randomBytes(target)));
            for (int i = 0; i < 4; i++) {
                threads.add(abuser("truncated-hello", () -> truncated(target, hello)));
                threads.add(abuser("slow-drip", () -> slowDrip(target, hello)));
            }
            threads.add(abuser("oversized-hello", () -> oversized(target)));
            threads.add(abuser("tls12-only", () -> tls12(target)));
            threads.add(abuser("bad-certificate", () -> badCertificates(target, ca, now)));

            // The legitimate peer, from 127.0.0.1, authenticating one handshake after another.
            List<Long> latenciesMicros = Collections.synchronizedList(new ArrayList<>());
            AtomicInteger legitFailures = new AtomicInteger();
            List<String> failureReasons = new CopyOnWriteArrayList<>();
            Thread legit = Thread.ofPlatform().name("legit").start(() -> {
                while (!stop) {
                    long t0 = System.nanoTime();
                    try {
                        client.authenticate(2000, 1000, target).get(30, TimeUnit.SECONDS);
                        latenciesMicros.add((System.nanoTime() - t0) / 1000);
                    } catch (Exception e) {
                        legitFailures.incrementAndGet();
                        failureReasons.add(String.valueOf(e.getCause()));
                    }
                }
            });
            int maxInHandshake = 0;
            int maxThreads = 0;
            long maxHeap = 0;
            Runtime rt = Runtime.getRuntime();
            long deadline = System.nanoTime() + TimeUnit.SECONDS.toNanos(SECONDS);
            while (System.nanoTime() < deadline) {
                maxInHandshake = Math.max(maxInHandshake, server.inHandshake());
                maxThreads = Math.max(maxThreads, Thread.activeCount());
                maxHeap = Math.max(maxHeap, rt.totalMemory() - rt.freeMemory());
                closeBeyond(open, 200);
                Thread.sleep(20);
            }
            stop = true;
            legit.join(60_000);
            for (Thread t : threads) {
                t.join(HANDSHAKE_TIMEOUT.toMillis() * 3 + 10_000);
            }
            open.forEach(ListenerAbuseCampaignTest::closeQuietly);
            long abusive = attempts.values().stream().mapToLong(AtomicLong::get).sum();
            // Every abusive connection ends in exactly one refusal, once the last ones time out.
            eventually("server.inHandshake() == 0 && refused == attempts", HANDSHAKE_TIMEOUT.multipliedBy(3).plusSeconds(5),
                    () -> server.inHandshake() == 0 && server.refused() == abusive);

            Map<InboundRefusal, Long> byReason = server.refusedByReason();
            List<Long> sorted = new ArrayList<>(latenciesMicros);
            Collections.sort(sorted);
            String figures = String.format(java.util.Locale.ROOT, "listener abuse, %d s: abusive connections %s = %d;"
                            + " refused by reason %s; accepted %d (the legitimate peer's); legitimate handshakes %d, failed %d,"
                            + " p50 %.1f ms, p99 %.1f ms, max %.1f ms; connections in handshake at most %d (limit %d);"
                            + " refusals told %d; JVM threads at most %d, heap in use at most %d MiB (abusers included)",
                    SECONDS, attempts, abusive, byReason, server.accepted(), sorted.size(), legitFailures.get(),
                    percentile(sorted, 0.50) / 1000.0, percentile(sorted, 0.99) / 1000.0, percentile(sorted, 1.0) / 1000.0,
                    maxInHandshake, GLOBAL, told.stream().filter(h -> !h.accepted()).count(), maxThreads, maxHeap >> 20);
            System.out.println("CAMPAIGN " + figures);

            assertThat(abuserErrors).as("the abusers ran as written").isEmpty();
            assertThat(legitFailures.get()).as("the legitimate peer is never refused: " + failureReasons).isZero();
            assertThat(sorted).as("the legitimate peer authenticated throughout").isNotEmpty();
            assertThat(server.accepted()).as("only the legitimate handshakes were accepted").isEqualTo(sorted.size());
            assertThat(byReason.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(abusive);
            assertThat(byReason.get(InboundRefusal.PEER_LIMIT)).as("the silent flood hit its address's limit").isPositive();
            assertThat(byReason.get(InboundRefusal.TIMEOUT)).as("silent, truncated and dripped connections timed out")
                    .isPositive();
            assertThat(byReason.get(InboundRefusal.CLIENT_CERTIFICATE)).isEqualTo(attempts.get("bad-certificate").get());
            assertThat(byReason.get(InboundRefusal.TLS)).as("oversized ClientHellos and TLS 1.2 are TLS failures")
                    .isGreaterThanOrEqualTo(attempts.get("oversized-hello").get() + attempts.get("tls12-only").get());
            assertThat(byReason.get(InboundRefusal.OVERLOADED)).as("7 addresses never fill 256 slots").isZero();
            assertThat(maxInHandshake).isLessThanOrEqualTo(GLOBAL);
            // Told in samples: per address and reason, one at once and then one per 10 s.
            long tellable = 7L * InboundRefusal.values().length * (SECONDS / 10 + 2);
            assertThat(told.stream().filter(h -> !h.accepted()).count()).as("refusals told, not one line each")
                    .isLessThanOrEqualTo(tellable);
        } finally {
            stop = true;
        }
    }

    private static long percentile(List<Long> sorted, double p) {
        if (sorted.isEmpty()) {
            return 0;
        }
        return sorted.get(Math.min(sorted.size() - 1, (int) Math.ceil(p * sorted.size()) - 1 < 0 ? 0
                : (int) Math.ceil(p * sorted.size()) - 1));
    }

    private interface Abuse {
        void once() throws Exception;
    }

    private Thread abuser(String name, Abuse abuse) {
        return Thread.ofPlatform().name("abuser-" + name).daemon().start(() -> {
            while (!stop) {
                try {
                    abuse.once();
                } catch (Exception e) {
                    abuserErrors.add(new AssertionError(name + ": " + e, e));
                    return;
                }
            }
        });
    }

    private static Socket from(String source, InetSocketAddress target) throws IOException {
        Socket s = new Socket();
        s.bind(new InetSocketAddress(InetAddress.getByName(source), 0));
        s.connect(target, 5_000);
        return s;
    }

    /** Reads until the server closes (or the timeout passes); true if it closed. */
    private static boolean closedByServer(Socket s, Duration within) throws IOException {
        s.setSoTimeout((int) within.toMillis());
        InputStream in = s.getInputStream();
        byte[] buf = new byte[4096];
        try {
            while (in.read(buf) >= 0) {
                // alerts and the like: read to the end
            }
            return true;
        } catch (java.net.SocketTimeoutException e) {
            return false;
        } catch (java.net.SocketException e) {
            return true; // reset
        }
    }

    // 10,000 connections a minute from one address that never send a byte. The newest 200 stay open (more
    // than the address's 32 slots, so the limit bites); older ones are reset, as a scanner would.
    private void silent(InetSocketAddress target, ConcurrentLinkedQueue<Socket> open) throws Exception {
        Socket s = from("127.0.0.3", target);
        count("silent");
        s.setSoLinger(true, 0);
        open.add(s);
        Thread.sleep(6); // 10,000 a minute
    }

    private static void closeBeyond(ConcurrentLinkedQueue<Socket> open, int keep) {
        while (open.size() > keep) {
            Socket s = open.poll();
            if (s == null) {
                return;
            }
            closeQuietly(s);
        }
    }

    private static void closeQuietly(Socket s) {
        try {
            s.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    private void randomBytes(InetSocketAddress target) throws Exception {
        try (Socket s = from("127.0.0.4", target)) {
            count("random-bytes");
            byte[] junk = new byte[512];
            new Random().nextBytes(junk);
            junk[0] = 0x47; // 'G': never a TLS record type, so always "not TLS"
            s.getOutputStream().write(junk);
            assertThat(closedByServer(s, HANDSHAKE_TIMEOUT.multipliedBy(2))).isTrue();
        }
    }

    private void truncated(InetSocketAddress target, byte[] hello) throws Exception {
        try (Socket s = from("127.0.0.5", target)) {
            count("truncated-hello");
            s.getOutputStream().write(Arrays.copyOf(hello, hello.length / 2));
            assertThat(closedByServer(s, HANDSHAKE_TIMEOUT.multipliedBy(2))).as("cut at the handshake timeout").isTrue();
        }
    }

    private void slowDrip(InetSocketAddress target, byte[] hello) throws Exception {
        try (Socket s = from("127.0.0.7", target)) {
            count("slow-drip");
            OutputStream out = s.getOutputStream();
            s.setSoTimeout(1);
            for (byte b : hello) {
                try {
                    out.write(b);
                    out.flush();
                } catch (IOException e) {
                    return; // the server cut it
                }
                Thread.sleep(SECONDS >= 30 ? 1_000 : 250); // one byte a second in the campaign
                try {
                    if (s.getInputStream().read() < 0) {
                        return;
                    }
                } catch (java.net.SocketTimeoutException e) {
                    // nothing yet: keep dripping
                } catch (IOException e) {
                    return;
                }
            }
            throw new AssertionError("the server let a dripped ClientHello run for " + hello.length + " bytes");
        }
    }

    private void oversized(InetSocketAddress target) throws Exception {
        try (Socket s = from("127.0.0.6", target)) {
            count("oversized-hello");
            ByteBuffer b = ByteBuffer.allocate(5 + 4 + 20_000);
            b.put((byte) 0x16).put((byte) 3).put((byte) 1).putShort((short) (4 + 20_000)); // a handshake record
            b.put((byte) 1).put((byte) 0).putShort((short) 20_000); // a ClientHello of 20,000 bytes
            try {
                s.getOutputStream().write(b.array());
            } catch (IOException e) {
                // closed while we wrote: refused early
            }
            assertThat(closedByServer(s, HANDSHAKE_TIMEOUT.multipliedBy(2))).isTrue();
        }
        Thread.sleep(5);
    }

    private void tls12(InetSocketAddress target) throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLSv1.2");
        ctx.init(null, new TrustManager[] {new TrustAnything()}, null);
        try (Socket raw = from("127.0.0.8", target);
             SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(raw, "1000.spiffe.cilium", target.getPort(), true)) {
            count("tls12-only");
            s.setEnabledProtocols(new String[] {"TLSv1.2"});
            s.setSoTimeout((int) HANDSHAKE_TIMEOUT.multipliedBy(2).toMillis());
            try {
                s.startHandshake();
                throw new AssertionError("a TLS 1.2 handshake completed");
            } catch (javax.net.ssl.SSLException expected) {
                // refused: protocol_version
            }
        }
        Thread.sleep(5);
    }

    private int badIndex;

    private void badCertificates(InetSocketAddress target, TestCa ca, Instant now) throws Exception {
        List<UnaryOperator<dev.meshauth.testing.certs.CertSpec>> bad = List.of(
                m -> m.withValidity(now.minusSeconds(7200), now.minusSeconds(10)),
                m -> m.withCa(true),
                m -> m.withUriSans(List.of("spiffe://spiffe.cilium/identity/2000", "spiffe://spiffe.cilium/identity/2001")),
                m -> m.withUriSans(List.of("spiffe://spiffe.cilium/ns/default/sa/x")));
        int k = badIndex++ % (bad.size() + 1);
        WorkloadSvid svid = k == bad.size()
                ? MutualAuthTest.svid(TestCa.create(TD.toIdString(), now.minusSeconds(3600)), 2000, m -> m, Duration.ofHours(1))
                : MutualAuthTest.svid(ca, 2000, bad.get(k), Duration.ofHours(1));
        KeyStore ks = KeyStore.getInstance("PKCS12");
        ks.load(null, null);
        ks.setKeyEntry("svid", svid.key(), new char[0], svid.chain().toArray(new X509Certificate[0]));
        KeyManagerFactory kmf = KeyManagerFactory.getInstance("PKIX");
        kmf.init(ks, new char[0]);
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(kmf.getKeyManagers(), new TrustManager[] {new TrustAnything()}, null);
        try (Socket raw = from("127.0.0.9", target);
             SSLSocket s = (SSLSocket) ctx.getSocketFactory().createSocket(raw, "1000.spiffe.cilium", target.getPort(), true)) {
            count("bad-certificate");
            SSLParameters p = s.getSSLParameters();
            p.setServerNames(List.of(new SNIHostName("1000.spiffe.cilium")));
            s.setSSLParameters(p);
            s.setSoTimeout((int) HANDSHAKE_TIMEOUT.multipliedBy(2).toMillis());
            try {
                s.startHandshake(); // TLS 1.3: the client finishes first; the server's verdict is an alert
                int r = s.getInputStream().read();
                if (r >= 0) {
                    throw new AssertionError("the server sent data to a client with a bad certificate");
                }
            } catch (IOException expected) {
                // the alert
            }
        }
    }

    /** A real TLS 1.3 ClientHello for SNI 1000.spiffe.cilium, from the JDK's engine. */
    private static byte[] clientHello() throws Exception {
        SSLContext ctx = SSLContext.getInstance("TLSv1.3");
        ctx.init(null, new TrustManager[] {new TrustAnything()}, null);
        SSLEngine e = ctx.createSSLEngine("1000.spiffe.cilium", 4250);
        e.setUseClientMode(true);
        SSLParameters p = e.getSSLParameters();
        p.setServerNames(List.of(new SNIHostName("1000.spiffe.cilium")));
        e.setSSLParameters(p);
        ByteBuffer out = ByteBuffer.allocate(e.getSession().getPacketBufferSize());
        e.wrap(ByteBuffer.allocate(0), out);
        return Arrays.copyOf(out.array(), out.position());
    }

    /** The abusers' trust: they are here to be refused, not to judge the server. */
    private static final class TrustAnything implements X509TrustManager {
        @Override
        public void checkClientTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public void checkServerTrusted(X509Certificate[] chain, String authType) {
        }

        @Override
        public X509Certificate[] getAcceptedIssuers() {
            return new X509Certificate[0];
        }
    }
}
