package dev.meshauth.bench;

import dev.meshauth.agent.events.Origin;

import dev.meshauth.agent.auth.AuthManager;
import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.bench.handshake.StaticStore;
import dev.meshauth.agent.handshake.MutualAuthClient;
import dev.meshauth.agent.handshake.MutualAuthServer;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.auth.InMemoryAuthMap;
import dev.meshauth.spire.devserver.CertificateMinter;
import dev.meshauth.spire.devserver.DevCa;
import dev.meshauth.spire.svid.WorkloadSvid;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Base64;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.ConcurrentHashMap;
import java.util.random.RandomGenerator;

/**
 * Signal to entry (bench/run-handshake's last step; the handshake costs are {@link
 * dev.meshauth.bench.handshake.SideBySide}'s): our client and server in one JVM on loopback (ECDSA P-256
 * SVIDs), warmed up by {@code meshauth.bench.warmup} handshakes at 8 concurrent, then an auth-required
 * signal at a time through the auth manager, at idle: from the request to the entry in the map.
 */
public final class HandshakeBench {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");

    private HandshakeBench() {
    }

    static WorkloadSvid svid(DevCa ca, long id) {
        KeyPair kp = CertificateMinter.newKeyPair();
        String uri = "spiffe://spiffe.cilium/identity/" + id;
        X509Certificate c = ca.issue(SpiffeId.parse(uri), kp.getPublic(), Instant.now(), java.time.Duration.ofHours(1));
        return new WorkloadSvid(SpiffeId.parse(uri), OptionalLong.of(id), List.of(c), kp.getPrivate(), "");
    }

    public static void main(String[] args) throws Exception {
        DevCa ca = DevCa.create(TD, Instant.now().minusSeconds(60));
        Map<Long, WorkloadSvid> serverSvids = new ConcurrentHashMap<>(Map.of(1000L, svid(ca, 1000)));
        Map<Long, WorkloadSvid> clientSvids = new ConcurrentHashMap<>(Map.of(2000L, svid(ca, 2000)));
        StaticStore server = new StaticStore(TD, List.of(ca.certificate()), serverSvids);
        StaticStore client = new StaticStore(TD, List.of(ca.certificate()), clientSvids);
        try (MutualAuthServer srv = MutualAuthServer.start(new MutualAuthServer.Options("127.0.0.1", 0, Duration.ofSeconds(5),
                256), server, InstantSource.system());
                MutualAuthClient cli = new MutualAuthClient(new MutualAuthClient.Options(Duration.ofSeconds(5),
                        Duration.ofSeconds(2), 64), client, InstantSource.system())) {
            InetSocketAddress peer = new InetSocketAddress("127.0.0.1", srv.port());
            warmUp(cli, peer, Integer.getInteger("meshauth.bench.warmup", 20000));
            latency(cli, peer, "one JVM, both sides");
        }
    }

    private static void warmUp(MutualAuthClient cli, InetSocketAddress peer, int n) throws Exception {
        List<CompletableFuture<?>> inFlight = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            inFlight.add(cli.authenticate(2000, 1000, peer));
            if (inFlight.size() >= 8) {
                inFlight.removeFirst().get();
            }
        }
        for (CompletableFuture<?> f : inFlight) {
            f.get();
        }
    }

    /**
     * Signal to entry: the pair 2000 -> 1000 is authenticated once (contexts warm, as in steady state);
     * then each sample deletes the entry behind the manager's back and raises a signal, which the
     * manager must act on at once (a vanished entry is re-created despite the signal backoff).
     */
    private static void latency(MutualAuthClient cli, InetSocketAddress peer, String label) throws Exception {
        int n = 1000;
        InMemoryAuthMap map = new InMemoryAuthMap(4096);
        AuthKey k = new AuthKey(2000, 1000, 2, AuthType.SPIRE);
        java.util.concurrent.SynchronousQueue<long[]> done = new java.util.concurrent.SynchronousQueue<>();
        // The manager measures from the request to the entry written; the caller blocks (no spinning: on two
        // cores a spinning caller steals the CPU the handshake needs and inflates the tail).
        java.util.function.Consumer<dev.meshauth.agent.events.AuthEvent> events = e -> {
            if (e instanceof dev.meshauth.agent.events.AuthEvent.HandshakeSucceeded ok) {
                try {
                    done.put(new long[] {ok.sinceRequest().toNanos(), ok.handshake().toNanos()});
                } catch (InterruptedException ie) {
                    Thread.currentThread().interrupt();
                }
            }
        };
        dev.meshauth.agent.time.Clocks time = dev.meshauth.agent.time.Clocks.system("bench-auth-scheduler");
        try (java.util.concurrent.ExecutorService workers = java.util.concurrent.Executors.newVirtualThreadPerTaskExecutor();
                AuthManager m = new AuthManager(map, cli::authenticate, id -> Optional.of(peer), time, workers,
                        AuthManagerOptions.DEFAULTS, RandomGenerator.getDefault(), events)) {
            long[] ns = new long[n];
            long[] hs = new long[n];
            for (int i = -200; i < n; i++) {
                map.delete(k);
                while (!m.request(k, Origin.SIGNAL)) {
                    Thread.sleep(0, 100_000); // the previous request is still leaving the pending set
                }
                long[] t = done.take();
                if (i >= 0) {
                    ns[i] = t[0];
                    hs[i] = t[1];
                }
            }
            Arrays.sort(ns);
            Arrays.sort(hs);
            System.out.printf("%s: auth-required signal -> entry in the map: p50 %.2f ms, p99 %.2f ms, max %.2f ms (%d samples);"
                    + " of which the handshake: p50 %.2f ms, p99 %.2f ms%n", label, ns[n / 2] / 1e6, ns[n * 99 / 100] / 1e6,
                    ns[n - 1] / 1e6, n, hs[n / 2] / 1e6, hs[n * 99 / 100] / 1e6);
        } finally {
            time.scheduler().shutdownNow();
        }
    }
}
