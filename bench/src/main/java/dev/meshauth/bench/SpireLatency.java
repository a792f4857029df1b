package dev.meshauth.bench;

import dev.meshauth.spire.delegated.DelegatedIdentityClient;
import dev.meshauth.spire.delegated.DelegatedIdentityOptions;
import dev.meshauth.spire.delegated.IdentityEvent;
import dev.meshauth.spire.devserver.CertificateMinter;
import dev.meshauth.spire.devserver.DevCa;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import dev.meshauth.spire.entry.EntryLayout;
import dev.meshauth.spire.entry.EntryRegistrar;
import dev.meshauth.spire.entry.Registration;
import dev.meshauth.spire.entry.RegistrationSpec;
import dev.meshauth.spire.grpc.UnixSockets;
import dev.meshauth.spire.local.LocalSpire;
import dev.meshauth.spire.local.LocalSpireAgent;
import dev.meshauth.spire.local.LocalSpireServer;
import dev.meshauth.spire.local.SpireBinaries;
import io.grpc.ManagedChannel;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import spire.api.server.entry.v1.EntryGrpc;
import spire.api.server.entry.v1.EntryOuterClass.BatchCreateEntryRequest;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.Comparator;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Identity latency: from BatchCreateEntry returning to the SVID delivered and validated by the Delegated
 * Identity client, through the dev server (p50/p99 over 300 entries created one at a time, with 1000 entries
 * already present) and, in the same run, through the real spire-server and spire-agent (40 entries started at
 * random phases; SPIRE's defaults, then server cache reload and agent sync at 1 s); and the dev CA's issuance
 * rate (key pair + signature).
 *
 * <p>Run: {@code java -cp bench/target/benchmarks.jar dev.meshauth.bench.SpireLatency [dev]} ({@code dev}: the
 * dev server only).
 */
public final class SpireLatency {
    private static final int SAMPLES = 300;
    private static final int REAL_SAMPLES = 40; // each waits for an agent sync: seconds, not milliseconds

    private SpireLatency() {
    }

    public static void main(String[] args) throws Exception {
        TrustDomain td = TrustDomain.parse("spiffe.cilium");
        issuanceRate(td);
        Path dir = Files.createTempDirectory("meshauth-spire-bench");
        try {
            DevServerConfig config = DevServerConfig.under(dir.resolve("dev"), td);
            try (DevServer server = DevServer.start(config, InstantSource.system())) {
                measure("dev server", config.serverSocket(), config.adminSocket(), RegistrationSpec.ciliumDefaults(td),
                        SAMPLES, Duration.ZERO);
            }
            if (args.length > 0 && args[0].equals("dev")) {
                return; // the dev server only
            }
            // SPIRE's defaults (server entry cache reload 5 s, agent sync 5 s), then both at 1 s.
            for (Duration every : new Duration[] {Duration.ofSeconds(5), Duration.ofSeconds(1)}) {
                try (LocalSpire spire = realSpire(dir.resolve("real-" + every.toSeconds()), td, every)) {
                    measure("real SPIRE " + spire.server().binaries().version() + ", server cache_reload_interval and agent"
                            + " sync_interval " + every.toSeconds() + " s" + (every.toSeconds() == 5 ? " (SPIRE's defaults)" : ""),
                            spire.server().apiSocket(), spire.agent("node-1").adminSocket(),
                            RegistrationSpec.ciliumDefaults(td), REAL_SAMPLES, every);
                }
            }
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    /** The real spire-server and one agent; this process its authorized delegate, the operator entry as parent. */
    private static LocalSpire realSpire(Path dir, TrustDomain td, Duration every) throws Exception {
        Path home = SpireBinaries.repository(Path.of("")).orElseThrow(() -> new IllegalStateException(
                "run from a meshauth checkout (interop/spire/VERSION), or set " + SpireBinaries.ENV));
        SpireBinaries bin = SpireBinaries.find(home, true, System.err::println);
        SpiffeId delegate = DevServerConfig.meshauthAgent(td);
        LocalSpire spire = LocalSpire.start(bin, dir, LocalSpireServer.Settings.defaults(td).withCacheReloadInterval(every),
                List.of(LocalSpireAgent.Settings.of("node-1", delegate).withSyncInterval(every)));
        spire.registerMeshauth(delegate, RegistrationSpec.ciliumOperator(td), Duration.ofSeconds(60));
        return spire;
    }

    /**
     * From BatchCreateEntry returning to the SVID delivered and validated by our Delegated Identity client,
     * {@code samples} entries created one at a time with 1000 identities already held. Each sample starts after a
     * random pause below {@code phase}: against periodic caches, back-to-back samples would lock to one phase.
     */
    private static void measure(String label, Path entrySocket, Path adminSocket, RegistrationSpec spec, int samples,
            Duration phase) throws Exception {
        TrustDomain td = spec.trustDomain();
        Map<Long, CountDownLatch> waiting = new ConcurrentHashMap<>();
        ManagedChannel ch = UnixSockets.channel(entrySocket, 64 << 20);
        try (DelegatedIdentityClient client = DelegatedIdentityClient.start(DelegatedIdentityOptions.defaults(adminSocket, td),
                InstantSource.system(), e -> {
                    if (e instanceof IdentityEvent.SvidAdded a) {
                        CountDownLatch l = waiting.get(a.identity());
                        if (l != null) {
                            l.countDown();
                        }
                    }
                })) {
            EntryGrpc.EntryBlockingStub entries = EntryGrpc.newBlockingStub(ch);
            Set<Long> base = new java.util.HashSet<>();
            for (long i = 1; i <= 1000; i++) {
                base.add(i);
            }
            new EntryRegistrar(entries, spec, new EntryLayout.ClusterWide(RegistrationSpec.ciliumOperator(spec.trustDomain())))
                    .reconcileIdentities(base);
            long settle = System.nanoTime() + Duration.ofMinutes(5).toNanos();
            while (client.svids().size() < 1000) {
                if (System.nanoTime() > settle) {
                    throw new IllegalStateException(label + ": only " + client.svids().size() + " of 1000 SVIDs in 5 min");
                }
                Thread.sleep(50);
            }
            long[] ns = new long[samples];
            for (int i = 0; i < samples; i++) {
                long id = 100_000 + i;
                CountDownLatch latch = new CountDownLatch(1);
                waiting.put(id, latch);
                if (!phase.isZero()) {
                    Thread.sleep(java.util.concurrent.ThreadLocalRandom.current().nextLong(phase.toMillis()));
                }
                long t0 = System.nanoTime();
                entries.batchCreateEntry(BatchCreateEntryRequest.newBuilder().addEntries(spec.desired(new Registration(id, RegistrationSpec.ciliumOperator(spec.trustDomain())))).build());
                if (!latch.await(60, TimeUnit.SECONDS)) {
                    throw new IllegalStateException(label + ": SVID for " + id + " not delivered in 60 s");
                }
                ns[i] = System.nanoTime() - t0;
            }
            Arrays.sort(ns);
            System.out.printf("%s: entry created -> SVID delivered (1000+ identities held, %d samples): p50 %.1f ms,"
                    + " p99 %.1f ms, max %.1f ms%n", label, samples, ns[samples / 2] / 1e6, ns[samples * 99 / 100] / 1e6,
                    ns[samples - 1] / 1e6);
        } finally {
            ch.shutdownNow();
        }
    }

    private static void issuanceRate(TrustDomain td) {
        DevCa ca = DevCa.create(td, Instant.now());
        SpiffeId id = SpiffeId.parse("spiffe://spiffe.cilium/identity/1");
        for (int i = 0; i < 500; i++) { // warm-up
            ca.issue(id, CertificateMinter.newKeyPair().getPublic(), Instant.now(), Duration.ofHours(1));
        }
        int n = 3000;
        long t0 = System.nanoTime();
        for (int i = 0; i < n; i++) {
            ca.issue(id, CertificateMinter.newKeyPair().getPublic(), Instant.now(), Duration.ofHours(1));
        }
        double secs = (System.nanoTime() - t0) / 1e9;
        System.out.printf("dev CA issuance (P-256 key pair + X509-SVID signature): %.0f SVIDs/s (%d in %.2f s, one thread)%n",
                n / secs, n, secs);
    }
}
