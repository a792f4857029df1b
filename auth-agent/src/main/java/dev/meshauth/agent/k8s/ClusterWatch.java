package dev.meshauth.agent.k8s;

import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.endpoint.NodeInfo;
import dev.meshauth.policy.model.EndpointSelector;
import dev.meshauth.policy.nodeid.NodeIdAllocator;
import dev.meshauth.policy.nodeid.NodeIds;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Watches CiliumNode and CiliumEndpoint objects and keeps the endpoints and nodes the evaluation needs.
 *
 * <p>A node's address is its InternalIP, never an ExternalIP (Cilium sometimes dials an ExternalIP and
 * the handshake times out, cilium#46720). Node ids: Cilium allocates them in each agent's own node map
 * and does not publish them in CiliumNode, so this watch numbers nodes itself through {@link NodeIds}
 * (stable across restarts when persisted, freed ids reused as late as possible); that numbering is right
 * for meshauth's standalone datapath, and the agent takes Cilium's own ids from Cilium's node map when it
 * feeds Cilium's datapath.
 * Endpoints are placed on the node whose InternalIP equals their {@code status.networking.node}.
 */
public final class ClusterWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterWatch.class);

    private final Map<String, NodeInfo> nodes = new ConcurrentHashMap<>();
    private final Map<String, String> nodeUids = new ConcurrentHashMap<>();
    private final Map<String, GenericKubernetesResource> endpoints = new ConcurrentHashMap<>();
    private final NodeIds nodeIds;
    private final java.util.Set<String> handled = ConcurrentHashMap.newKeySet(); // see IdentityWatch
    private final Runnable listener;
    private final List<SharedIndexInformer<GenericKubernetesResource>> informers = new ArrayList<>();

    private ClusterWatch(KubernetesClient client, Duration resync, NodeIds nodeIds, RelistGrace grace, Runnable listener) {
        this.listener = listener;
        this.nodeIds = nodeIds;
        informers.add(client.genericKubernetesResources(CiliumResources.NODE).inform(grace.guard(handler(this::putNode,
                this::removeNode)), resync.toMillis()));
        informers.add(client.genericKubernetesResources(CiliumResources.ENDPOINT).inAnyNamespace().inform(grace.guard(handler(
                r -> endpoints.put(key(r), r), r -> endpoints.remove(key(r)))), resync.toMillis()));
    }

    /** Starts both informers, numbering nodes with {@code nodeIds}; {@code listener} runs after each change once synced. */
    public static ClusterWatch start(KubernetesClient client, Duration resync, NodeIds nodeIds, Runnable listener) {
        return start(client, resync, nodeIds, RelistGrace.none(), listener);
    }

    /** As above, with deletes a relist infers held for {@code grace}. */
    public static ClusterWatch start(KubernetesClient client, Duration resync, NodeIds nodeIds, RelistGrace grace,
            Runnable listener) {
        return new ClusterWatch(client, resync, nodeIds, grace, listener);
    }

    /** As above, with ids for this process's life only. */
    public static ClusterWatch start(KubernetesClient client, Duration resync, Runnable listener) {
        return start(client, resync, NodeIds.inMemory(), listener);
    }

    private void removeNode(GenericKubernetesResource r) {
        String name = r.getMetadata().getName();
        nodes.remove(name);
        nodeUids.remove(name);
        nodeIds.release(name);
    }

    private interface Action {
        void apply(GenericKubernetesResource r);
    }

    private ResourceEventHandler<GenericKubernetesResource> handler(Action put, Action remove) {
        return new ResourceEventHandler<>() {
            @Override
            public void onAdd(GenericKubernetesResource r) {
                put.apply(r);
                handled.add(r.getKind() + "/" + key(r));
                changed();
            }

            @Override
            public void onUpdate(GenericKubernetesResource old, GenericKubernetesResource r) {
                put.apply(r);
                handled.add(r.getKind() + "/" + key(r));
                changed();
            }

            @Override
            public void onDelete(GenericKubernetesResource r, boolean unknown) {
                remove.apply(r);
                handled.remove(r.getKind() + "/" + key(r));
                changed();
            }
        };
    }

    private static String key(GenericKubernetesResource r) {
        return r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
    }

    private void putNode(GenericKubernetesResource r) {
        String name = r.getMetadata().getName();
        // Cilium makes the Node the owner of its CiliumNode: that UID is the one SPIRE's k8s_psat agent ID carries.
        r.getMetadata().getOwnerReferences().stream().filter(o -> "Node".equals(o.getKind()) && o.getUid() != null)
                .findFirst().ifPresentOrElse(o -> nodeUids.put(name, o.getUid()), () -> nodeUids.remove(name));
        Optional<String> internal = Optional.empty();
        Object addresses = r.getAdditionalProperties().get("spec");
        for (int i = 0; Fields.at(addresses, "addresses", i).isPresent(); i++) {
            if (Fields.string(addresses, "addresses", i, "type").filter("InternalIP"::equals).isPresent()) {
                internal = Fields.string(addresses, "addresses", i, "ip").filter(ip -> ip.indexOf(':') < 0);
                if (internal.isPresent()) {
                    break;
                }
            }
        }
        if (internal.isEmpty()) {
            LOG.atWarn().setMessage("skipping CiliumNode without an IPv4 InternalIP address")
                    .addKeyValue("name", name)
                    .log();
            nodes.remove(name);
            return;
        }
        Optional<Integer> id = nodeIds.idOf(name);
        if (id.isEmpty()) {
            LOG.atError().addKeyValue("name", name).addKeyValue("max", NodeIdAllocator.MAX_ID)
                    .log("skipping CiliumNode: every node id is taken by a live node");
            nodes.remove(name);
            return;
        }
        nodes.put(name, new NodeInfo(name, id.get(), internal.get()));
    }

    private void changed() {
        if (synced()) {
            listener.run();
        }
    }

    /** True once both informers have listed every object. */
    public boolean synced() {
        return informers.size() == 2 && informers.stream().allMatch(SharedIndexInformer::hasSynced)
                && handled.size() >= informers.stream().mapToInt(i -> i.getStore().list().size()).sum();
    }

    /** The Kubernetes Node UID of each known node whose CiliumNode names its owner Node. */
    public Map<String, String> nodeUids() {
        return Map.copyOf(nodeUids);
    }

    /** Known nodes. */
    public List<NodeInfo> nodes() {
        return List.copyOf(nodes.values());
    }

    /** Endpoints with an identity, an IPv4 address and a known node; others are skipped (logged once seen). */
    public List<Endpoint> endpoints() {
        Map<String, String> nodeByIp = new HashMap<>();
        nodes.values().forEach(n -> nodeByIp.put(n.internalIp(), n.name()));
        List<Endpoint> out = new ArrayList<>();
        for (GenericKubernetesResource r : endpoints.values()) {
            Object status = r.getAdditionalProperties().get("status");
            Optional<Long> id = Fields.number(status, "identity", "id");
            Optional<String> ip = Fields.string(status, "networking", "addressing", 0, "ipv4");
            Optional<String> ip6 = Fields.string(status, "networking", "addressing", 0, "ipv6");
            Optional<String> node = Fields.string(status, "networking", "node").map(nodeByIp::get);
            if (id.isEmpty() || ip.isEmpty() || node.isEmpty()) {
                LOG.atDebug().setMessage("CiliumEndpoint not usable yet (identity, IPv4 or node missing)")
                        .addKeyValue("endpoint", key(r))
                        .log();
                continue;
            }
            Map<String, String> labels = new HashMap<>();
            Fields.at(status, "identity", "labels").filter(List.class::isInstance).map(List.class::cast).ifPresent(l -> {
                for (Object o : l) {
                    String s = String.valueOf(o);
                    int colon = s.indexOf(':');
                    int eq = s.indexOf('=');
                    if (s.startsWith("k8s:") && eq > colon) {
                        labels.put(s.substring(colon + 1, eq), s.substring(eq + 1));
                    }
                }
            });
            labels.put(EndpointSelector.NAMESPACE_LABEL, r.getMetadata().getNamespace());
            out.add(new Endpoint(r.getMetadata().getName(), r.getMetadata().getNamespace(), labels, id.get(), node.get(),
                    ip.get(), Optional.empty(), Optional.empty(), ip6));
        }
        return out;
    }

    @Override
    public void close() {
        informers.forEach(SharedIndexInformer::close);
    }
}
