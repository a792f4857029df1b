package dev.meshauth.bench;

import dev.meshauth.spire.delegated.DelegatedIdentityClient;
import dev.meshauth.spire.delegated.DelegatedIdentityOptions;
import dev.meshauth.spire.delegated.IdentityEvent;
import dev.meshauth.spire.devserver.CertificateMinter;
import dev.meshauth.spire.devserver.DevCa;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import dev.meshauth.spire.entry.EntryRegistrar;
import dev.meshauth.spire.entry.RegistrationSpec;
import dev.meshauth.spire.grpc.UnixSockets;
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
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

/**
 * Identity latency through the dev server: from BatchCreateEntry returning to the SVID delivered and
 * validated by the Delegated Identity client (p50/p99 over 300 entries created one at a time, with 1000
 * entries already present), and the CA's issuance rate (key pair + signature) per second.
 *
 * <p>Run: {@code java -cp bench/target/benchmarks.jar dev.meshauth.bench.SpireLatency}.
 */
public final class SpireLatency {
    private static final int SAMPLES = 300;

    private SpireLatency() {
    }

    public static void main(String[] args) throws Exception {
        TrustDomain td = TrustDomain.parse("spiffe.cilium");
        issuanceRate(td);
        Path dir = Files.createTempDirectory("meshauth-spire-bench");
        DevServerConfig config = DevServerConfig.under(dir, td);
        Map<Long, CountDownLatch> waiting = new ConcurrentHashMap<>();
        try (DevServer server = DevServer.start(config, InstantSource.system());
                DelegatedIdentityClient client = DelegatedIdentityClient.start(
                        DelegatedIdentityOptions.defaults(config.adminSocket(), td), InstantSource.system(), e -> {
                            if (e instanceof IdentityEvent.SvidAdded a) {
                                CountDownLatch l = waiting.get(a.identity());
                                if (l != null) {
                                    l.countDown();
                                }
                            }
                        })) {
            ManagedChannel ch = UnixSockets.channel(config.serverSocket(), 64 << 20);
            EntryGrpc.EntryBlockingStub entries = EntryGrpc.newBlockingStub(ch);
            RegistrationSpec spec = RegistrationSpec.ciliumDefaults(td);
            Set<Long> base = new java.util.HashSet<>();
            for (long i = 1; i <= 1000; i++) {
                base.add(i);
            }
            new EntryRegistrar(entries, spec).reconcile(base);
            while (client.svids().size() < 1000) {
                Thread.sleep(50);
            }
            long[] ns = new long[SAMPLES];
            for (int i = 0; i < SAMPLES; i++) {
                long id = 100_000 + i;
                CountDownLatch latch = new CountDownLatch(1);
                waiting.put(id, latch);
                long t0 = System.nanoTime();
                entries.batchCreateEntry(BatchCreateEntryRequest.newBuilder().addEntries(spec.desired(id)).build());
                if (!latch.await(30, TimeUnit.SECONDS)) {
                    throw new IllegalStateException("SVID for " + id + " not delivered in 30 s");
                }
                ns[i] = System.nanoTime() - t0;
            }
            Arrays.sort(ns);
            System.out.printf("entry created -> SVID delivered (1000+ identities held): p50 %.1f ms, p99 %.1f ms, max %.1f ms%n",
                    ns[SAMPLES / 2] / 1e6, ns[SAMPLES * 99 / 100] / 1e6, ns[SAMPLES - 1] / 1e6);
            ch.shutdownNow();
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
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
