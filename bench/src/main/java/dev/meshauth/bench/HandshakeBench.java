package dev.meshauth.bench;

import dev.meshauth.agent.events.Origin;

import dev.meshauth.agent.auth.AuthManager;
import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.handshake.IdentityStore;
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
 * Full mutual TLS 1.3 handshakes between our client and server on loopback (ECDSA P-256 SVIDs):
 * handshakes per second and process CPU microseconds per handshake (both sides, one process), at 1 and 8
 * concurrent; then signal-to-entry latency through the auth manager. Provider and verify cache are chosen
 * by system properties (bench/run-handshake runs every combination); with an argument DIR it also writes
 * PEM files for the openssl s_server/s_time comparison.
 */
public final class HandshakeBench {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");

    /** A fixed set of SVIDs. */
    private record StaticStore(List<X509Certificate> roots, Map<Long, WorkloadSvid> svids) implements IdentityStore {
        @Override
        public TrustDomain trustDomain() {
            return TD;
        }

        @Override
        public Optional<WorkloadSvid> svid(long identity) {
            return Optional.ofNullable(svids.get(identity));
        }

        @Override
        public boolean servesLocally(long identity) {
            return svids.containsKey(identity);
        }
    }

    private HandshakeBench() {
    }

    static WorkloadSvid svid(DevCa ca, long id) {
        KeyPair kp = CertificateMinter.newKeyPair();
        String uri = "spiffe://spiffe.cilium/identity/" + id;
        X509Certificate c = ca.issue(SpiffeId.parse(uri), kp.getPublic(), Instant.now(), java.time.Duration.ofHours(1));
        return new WorkloadSvid(SpiffeId.parse(uri), OptionalLong.of(id), List.of(c), kp.getPrivate(), "");
    }

    public static void main(String[] args) throws Exception {
        String role = System.getProperty("meshauth.bench.role", "both");
        if (!role.equals("both")) {
            twoProcesses(role);
            return;
        }
        DevCa ca = DevCa.create(TD, Instant.now().minusSeconds(60));
        Map<Long, WorkloadSvid> serverSvids = new ConcurrentHashMap<>(Map.of(1000L, svid(ca, 1000)));
        Map<Long, WorkloadSvid> clientSvids = new ConcurrentHashMap<>(Map.of(2000L, svid(ca, 2000)));
        if (args.length == 1) {
            writePems(Path.of(args[0]), ca, serverSvids.get(1000L), clientSvids.get(2000L));
        }
        StaticStore server = new StaticStore(List.of(ca.certificate()), serverSvids);
        StaticStore client = new StaticStore(List.of(ca.certificate()), clientSvids);
        String label = System.getProperty("meshauth.tls.provider", "boringssl")
                + (Boolean.getBoolean("meshauth.tls.noVerifyCache") ? ", verify cache off (cold)" : ", verify cache on (warm)");
        try (MutualAuthServer srv = MutualAuthServer.start(new MutualAuthServer.Options("127.0.0.1", 0, Duration.ofSeconds(5),
                256), server, InstantSource.system());
                MutualAuthClient cli = new MutualAuthClient(new MutualAuthClient.Options(Duration.ofSeconds(5),
                        Duration.ofSeconds(2), 64), client, InstantSource.system())) {
            InetSocketAddress peer = new InetSocketAddress("127.0.0.1", srv.port());
            run(cli, peer, 8, Integer.getInteger("meshauth.bench.warmup", 6000)); // JIT and caches: steady state
            for (int conc : new int[] {1, 8}) {
                run(cli, peer, conc, 300);
                var r = run(cli, peer, conc, conc == 1 ? 1500 : 4000);
                System.out.printf("%s, %d concurrent: %.0f handshakes/s, %.0f CPU us per handshake (both sides)%n", label,
                        conc, r[0], r[1]);
            }
            latency(cli, peer, ca, clientSvids, label);
        }
    }

    /**
     * One side per process, as two nodes would be (bench/run-handshake pins each to its own core):
     * {@code server} serves identity 1000 on 127.0.0.1:{@code meshauth.bench.port} until killed;
     * {@code client} authenticates 2000 to it and reports client-side CPU and the signal-to-entry latency.
     * Both load one CA from {@code meshauth.bench.caDir}.
     */
    private static void twoProcesses(String role) throws Exception {
        DevCa ca = DevCa.loadOrCreate(Path.of(System.getProperty("meshauth.bench.caDir")), TD, Instant.now().minusSeconds(60));
        int port = Integer.getInteger("meshauth.bench.port", 14250);
        if (role.equals("server")) {
            StaticStore server = new StaticStore(List.of(ca.certificate()), new ConcurrentHashMap<>(Map.of(1000L, svid(ca, 1000))));
            try (MutualAuthServer srv = MutualAuthServer.start(new MutualAuthServer.Options("127.0.0.1", port,
                    Duration.ofSeconds(5), 256), server, InstantSource.system())) {
                System.out.println("server ready on " + srv.port());
                new java.util.concurrent.CountDownLatch(1).await();
            }
            return;
        }
        Map<Long, WorkloadSvid> clientSvids = new ConcurrentHashMap<>(Map.of(2000L, svid(ca, 2000)));
        StaticStore client = new StaticStore(List.of(ca.certificate()), clientSvids);
        try (MutualAuthClient cli = new MutualAuthClient(new MutualAuthClient.Options(Duration.ofSeconds(5),
                Duration.ofSeconds(2), 64), client, InstantSource.system())) {
            InetSocketAddress peer = new InetSocketAddress("127.0.0.1", port);
            run(cli, peer, 8, Integer.getInteger("meshauth.bench.warmup", 6000));
            for (int conc : new int[] {1, 8}) {
                run(cli, peer, conc, 300);
                var r = run(cli, peer, conc, conc == 1 ? 1500 : 4000);
                System.out.printf("two processes, %d concurrent: %.0f handshakes/s, %.0f CPU us per handshake (client side)%n",
                        conc, r[0], r[1]);
            }
            latency(cli, peer, ca, clientSvids, "two processes");
        }
    }

    private static double[] run(MutualAuthClient cli, InetSocketAddress peer, int conc, int n) throws Exception {
        var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
        long cpu0 = os.getProcessCpuTime();
        long t0 = System.nanoTime();
        List<CompletableFuture<?>> inFlight = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            inFlight.add(cli.authenticate(2000, 1000, peer));
            if (inFlight.size() >= conc) {
                inFlight.removeFirst().get();
            }
        }
        for (CompletableFuture<?> f : inFlight) {
            f.get();
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        double cpuUs = (os.getProcessCpuTime() - cpu0) / 1e3 / n;
        return new double[] {n / secs, cpuUs};
    }

    /**
     * Signal to entry: the pair 2000 -> 1000 is authenticated once (contexts warm, as in steady state);
     * then each sample deletes the entry behind the manager's back and raises a signal, which the
     * manager must act on at once (a vanished entry is re-created despite the signal backoff).
     */
    private static void latency(MutualAuthClient cli, InetSocketAddress peer, DevCa ca, Map<Long, WorkloadSvid> clientSvids,
            String label) throws Exception {
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

    private static void writePems(Path dir, DevCa ca, WorkloadSvid server, WorkloadSvid client) throws Exception {
        Files.createDirectories(dir);
        Files.writeString(dir.resolve("ca.pem"), pem("CERTIFICATE", ca.certificate().getEncoded()));
        Files.writeString(dir.resolve("server.pem"), pem("CERTIFICATE", server.leaf().getEncoded()));
        Files.writeString(dir.resolve("server.key"), pem("PRIVATE KEY", server.key().getEncoded()));
        Files.writeString(dir.resolve("client.pem"), pem("CERTIFICATE", client.leaf().getEncoded()));
        Files.writeString(dir.resolve("client.key"), pem("PRIVATE KEY", client.key().getEncoded()));
    }

    private static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }
}
