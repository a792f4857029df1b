package dev.meshauth.agent.node.source;

import dev.meshauth.agent.k8s.ClusterWatch;
import dev.meshauth.agent.k8s.IdentityWatch;
import dev.meshauth.agent.k8s.PolicyWatch;
import dev.meshauth.agent.k8s.RelistGrace;
import dev.meshauth.policy.nodeid.NodeIds;
import io.fabric8.kubernetes.client.KubernetesClient;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.Duration;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * Kubernetes source: CiliumNode, CiliumEndpoint, CiliumIdentity, CiliumNetworkPolicy and
 * CiliumClusterwideNetworkPolicy informers. The first view is returned only once every informer has
 * synced (a partial list would make garbage collection delete entries that are merely not listed yet);
 * later changes are coalesced for {@code debounce} so a burst of updates makes one re-evaluation.
 */
public final class KubernetesSource implements ClusterSource {
    private static final Logger LOG = LoggerFactory.getLogger(KubernetesSource.class);

    private final KubernetesClient client;
    private final Duration syncTimeout;
    private final Duration debounce;
    private final NodeIds nodeIds;
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("meshauth-k8s-source").factory());
    private volatile Consumer<ClusterSnapshot> onChange;
    private boolean queued; // @GuardedBy("this"): an apply is scheduled and has not started
    private ClusterWatch cluster;
    private PolicyWatch policies;
    private IdentityWatch identities;

    private final Duration relistGrace;

    /**
     * Over {@code client} (closed with this source), numbering nodes with {@code nodeIds}; objects a relist
     * no longer lists are believed gone after {@code relistGrace} ({@link dev.meshauth.agent.k8s.RelistGrace}).
     */
    public KubernetesSource(KubernetesClient client, Duration syncTimeout, Duration debounce, NodeIds nodeIds,
            Duration relistGrace) {
        this.relistGrace = relistGrace;
        this.client = client;
        this.nodeIds = nodeIds;
        this.syncTimeout = syncTimeout;
        this.debounce = debounce;
    }

    @Override
    public ClusterSnapshot start(Consumer<ClusterSnapshot> listener) throws IOException, InterruptedException {
        Duration resync = Duration.ofMinutes(10);
        RelistGrace grace = new RelistGrace(relistGrace, loop);
        cluster = ClusterWatch.start(client, resync, nodeIds, grace, this::changed);
        policies = PolicyWatch.start(client, resync, grace, p -> changed());
        identities = IdentityWatch.start(client, resync, grace, i -> changed());
        long deadline = System.nanoTime() + syncTimeout.toNanos();
        while (!synced()) {
            if (System.nanoTime() > deadline) {
                throw new IOException("Kubernetes informers did not sync within " + syncTimeout.toSeconds() + " s at "
                        + client.getMasterUrl() + " (nodes/endpoints synced=" + cluster.synced() + ", policies synced="
                        + policies.synced() + ", identities synced=" + identities.synced()
                        + "): check the API server and that the Cilium CRDs are installed and readable by this agent's RBAC");
            }
            Thread.sleep(20);
        }
        this.onChange = listener;
        ClusterSnapshot first = snapshot();
        LOG.atInfo().setMessage("Kubernetes source synced")
                .addKeyValue("api", client.getMasterUrl())
                .addKeyValue("nodes", first.nodes().size())
                .addKeyValue("endpoints", first.endpoints().size())
                .addKeyValue("policies", first.policies().size())
                .addKeyValue("identities", first.identities().map(java.util.Set::size).orElse(0))
                .log();
        return first;
    }

    private boolean synced() {
        return cluster.synced() && policies.synced() && identities.synced();
    }

    private ClusterSnapshot snapshot() {
        return new ClusterSnapshot(cluster.nodes(), cluster.endpoints(), policies.policies(), Optional.of(identities.identities()));
    }

    private synchronized void changed() {
        if (onChange == null || queued) {
            return;
        }
        queued = true;
        loop.schedule(this::apply, debounce.toMillis(), TimeUnit.MILLISECONDS);
    }

    /** Runs on the loop; a change arriving from here on schedules another apply, so none is lost. */
    private void apply() {
        synchronized (this) {
            queued = false;
        }
        try {
            if (synced()) {
                onChange.accept(snapshot());
            }
        } catch (RuntimeException e) {
            LOG.atError().setMessage("applying a Kubernetes change failed, the last good state stays")
                    .addKeyValue("error", e.toString())
                    .log();
        }
    }

    @Override
    public String describe() {
        return "Kubernetes API at " + client.getMasterUrl();
    }

    @Override
    public Map<String, String> problems() {
        return policies == null ? Map.of() : policies.problems();
    }

    @Override
    public void close() {
        loop.shutdownNow();
        if (identities != null) {
            identities.close();
        }
        if (policies != null) {
            policies.close();
        }
        if (cluster != null) {
            cluster.close();
        }
        client.close();
    }
}
