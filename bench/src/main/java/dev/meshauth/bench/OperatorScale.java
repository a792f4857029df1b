package dev.meshauth.bench;

import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import dev.meshauth.spire.entry.EntryLayout;
import dev.meshauth.spire.entry.EntryRegistrar;
import dev.meshauth.spire.entry.EntryRegistrarStubs;
import dev.meshauth.spire.entry.NodeRef;
import dev.meshauth.spire.entry.ParentTemplate;
import dev.meshauth.spire.entry.ReconcileResult;
import dev.meshauth.spire.entry.RegistrationSpec;
import dev.meshauth.spire.grpc.UnixSockets;
import dev.meshauth.spire.local.LocalSpire;
import dev.meshauth.spire.local.LocalSpireServer;
import dev.meshauth.spire.local.SpireBinaries;
import io.grpc.ManagedChannel;
import io.spiffe.spiffeid.TrustDomain;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Comparator;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Random;
import java.util.Set;

/**
 * The operator's reconcile at scale with the node-scoped layout, against the real spire-server (and the dev
 * server): {@code I} identities each on {@code K} of {@code N} nodes, so {@code I * K} entries. Reports the
 * first reconcile (all created), an idempotent pass (list only), a pass after 1% of the placements moved,
 * and, as the anchor, the same identities in Cilium's cluster-wide layout ({@code I} entries).
 *
 * <p>Run: {@code java -cp bench/target/benchmarks.jar dev.meshauth.bench.OperatorScale [I K N]} (default
 * 1000 20 100), from a meshauth checkout with SPIRE built ({@code interop/spire/build.sh}).
 */
public final class OperatorScale {
    private OperatorScale() {
    }

    public static void main(String[] args) throws Exception {
        int identities = args.length > 0 ? Integer.parseInt(args[0]) : 1000;
        int perIdentity = args.length > 1 ? Integer.parseInt(args[1]) : 20;
        int nodes = args.length > 2 ? Integer.parseInt(args[2]) : 100;
        TrustDomain td = TrustDomain.parse("spiffe.cilium");
        Path dir = Files.createTempDirectory("meshauth-operator-scale");
        try {
            Path home = SpireBinaries.repository(Path.of("")).orElseThrow(() -> new IllegalStateException(
                    "run from a meshauth checkout (interop/spire/VERSION), or set " + SpireBinaries.ENV));
            try (LocalSpire spire = LocalSpire.start(SpireBinaries.find(home, true, System.err::println), dir.resolve("real"),
                    LocalSpireServer.Settings.defaults(td), List.of())) {
                run("real spire-server " + spire.server().binaries().version(), spire.server().apiSocket(), td, identities,
                        perIdentity, nodes);
            }
            DevServerConfig config = DevServerConfig.under(dir.resolve("dev"), td);
            try (DevServer server = DevServer.start(config, InstantSource.system())) {
                run("dev server", config.serverSocket(), td, identities, perIdentity, nodes);
            }
        } finally {
            try (var walk = Files.walk(dir)) {
                walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
            }
        }
    }

    private static void run(String label, Path socket, TrustDomain td, int identities, int perIdentity, int nodes) {
        ManagedChannel ch = UnixSockets.channel(socket, 64 << 20);
        try {
            RegistrationSpec spec = RegistrationSpec.ciliumDefaults(td);
            EntryLayout byNode = new EntryLayout.NodeScoped(new ParentTemplate(ParentTemplate.NODE_ALIAS, td, "default"),
                    RegistrationSpec.ciliumOperator(td));
            EntryRegistrar registrar = new EntryRegistrar(EntryRegistrarStubs.blocking(ch), spec, byNode);
            Random random = new Random(42);
            Map<Long, Set<NodeRef>> hosts = new HashMap<>();
            for (long id = 10_000; id < 10_000 + identities; id++) {
                Set<NodeRef> on = new HashSet<>();
                while (on.size() < perIdentity) {
                    on.add(NodeRef.named("node-" + random.nextInt(nodes)));
                }
                hosts.put(id, on);
            }
            System.out.printf("%s: %,d identities on %d of %d nodes each, %,d entries%n", label, identities, perIdentity, nodes,
                    identities * perIdentity);
            EntryRegistrar cluster = new EntryRegistrar(EntryRegistrarStubs.blocking(ch), spec,
                    new EntryLayout.ClusterWide(RegistrationSpec.ciliumOperator(td)));
            timed("  anchor, Cilium's cluster-wide layout: first reconcile", () -> cluster.reconcileIdentities(hosts.keySet()));
            timed("  anchor, Cilium's cluster-wide layout: idempotent pass", () -> cluster.reconcileIdentities(hosts.keySet()));
            timed("  node-scoped, first reconcile (the migration: node entries created, cluster-wide ones removed)",
                    () -> registrar.reconcile(byNode.registrations(hosts)));
            timed("  node-scoped, idempotent pass (list only)", () -> registrar.reconcile(byNode.registrations(hosts)));
            int moves = identities * perIdentity / 100;
            for (int i = 0; i < moves; i++) { // 1%: one endpoint leaves a node, another node gains one
                long id = 10_000L + random.nextInt(identities);
                Set<NodeRef> on = new HashSet<>(hosts.get(id));
                on.remove(on.iterator().next());
                while (on.size() < perIdentity) {
                    on.add(NodeRef.named("node-" + random.nextInt(nodes)));
                }
                hosts.put(id, on);
            }
            timed("  node-scoped, after 1% of the placements moved", () -> registrar.reconcile(byNode.registrations(hosts)));
        } finally {
            ch.shutdownNow();
        }
    }

    private static void timed(String what, java.util.function.Supplier<ReconcileResult> pass) {
        long start = System.nanoTime();
        ReconcileResult r = pass.get();
        System.out.printf("%s: %,d ms (created %,d, deleted %,d, unchanged %,d, calls %d, failures %d)%n", what,
                (System.nanoTime() - start) / 1_000_000, r.created(), r.deleted(), r.unchanged(), r.calls(), r.failures().size());
    }
}
