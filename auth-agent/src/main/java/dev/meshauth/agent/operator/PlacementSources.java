package dev.meshauth.agent.operator;

import dev.meshauth.agent.k8s.ClusterWatch;
import dev.meshauth.agent.k8s.IdentityWatch;
import dev.meshauth.agent.k8s.RelistGrace;
import dev.meshauth.agent.node.source.SourceFiles;
import dev.meshauth.policy.PolicyException;
import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.endpoint.EndpointsFile;
import dev.meshauth.policy.endpoint.IdentityAllocator;
import dev.meshauth.policy.endpoint.ReservedIdentity;
import dev.meshauth.spire.entry.NodeRef;
import io.fabric8.kubernetes.client.KubernetesClient;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Collection;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeMap;
import java.util.TreeSet;
import java.util.function.BooleanSupplier;
import java.util.function.Function;
import java.util.function.Supplier;

/** Where the operator learns where identities are. */
public final class PlacementSources {
    private PlacementSources() {
    }

    /** A source from its three parts. */
    private record Of(BooleanSupplier isSynced, Supplier<Map<Long, Set<NodeRef>>> placement, Runnable stop)
            implements EntryOperator.Source {
        @Override
        public boolean synced() {
            return isSynced.getAsBoolean();
        }

        @Override
        public Map<Long, Set<NodeRef>> hosts() {
            return placement.get();
        }

        @Override
        public void close() {
            stop.run();
        }
    }

    /** CiliumIdentity objects: every identity, nodes unknown (the cluster-wide layout needs none). */
    public static EntryOperator.Source ciliumIdentities(KubernetesClient client, Duration resync, RelistGrace grace,
            Runnable changed) {
        IdentityWatch watch = IdentityWatch.start(client, resync, grace, ids -> changed.run());
        return new Of(watch::synced, () -> {
            Map<Long, Set<NodeRef>> out = new TreeMap<>();
            watch.identities().forEach(id -> out.put(id, Set.of()));
            return out;
        }, watch::close);
    }

    /** CiliumEndpoint and CiliumNode objects: each identity with the nodes its endpoints run on, with their UIDs. */
    public static EntryOperator.Source ciliumEndpoints(KubernetesClient client, Duration resync, RelistGrace grace,
            Runnable changed) {
        ClusterWatch watch = ClusterWatch.start(client, resync, dev.meshauth.policy.nodeid.NodeIds.inMemory(), grace, changed);
        return new Of(watch::synced, () -> {
            Map<String, String> uids = watch.nodeUids();
            return hostsOf(watch.endpoints(), node -> new NodeRef(node, Optional.ofNullable(uids.get(node))));
        }, watch::close);
    }

    /**
     * An endpoints file, read again at each reconcile (an unreadable or invalid file fails that reconcile,
     * which changes nothing and is retried).
     */
    public static EntryOperator.Source endpointsFile(Path file, Optional<Path> identitiesFile) {
        return new Of(() -> true, () -> {
            try {
                return readHosts(file, identitiesFile);
            } catch (IOException e) {
                throw new UncheckedIOException(e);
            } catch (PolicyException e) {
                throw new IllegalArgumentException(e.getMessage(), e);
            }
        }, () -> { });
    }

    /**
     * The identities of an endpoints file, each with the nodes of its endpoints (by name).
     *
     * @throws PolicyException if the file is invalid
     */
    public static Map<Long, Set<NodeRef>> readHosts(Path file, Optional<Path> identitiesFile) throws IOException, PolicyException {
        IdentityAllocator alloc = new IdentityAllocator(identitiesFile);
        EndpointsFile.Contents c = EndpointsFile.parse(file.toString(), SourceFiles.read("endpoints file", file), alloc);
        return hostsOf(c.endpoints(), NodeRef::named);
    }

    /** Identity -> nodes of its endpoints; reserved identities are Cilium's own and never registered. */
    static Map<Long, Set<NodeRef>> hostsOf(Collection<Endpoint> endpoints, Function<String, NodeRef> node) {
        Map<Long, Set<NodeRef>> out = new TreeMap<>();
        for (Endpoint e : endpoints) {
            if (!ReservedIdentity.isReserved(e.identity())) {
                out.computeIfAbsent(e.identity(), id -> new TreeSet<>(java.util.Comparator.comparing(NodeRef::name)))
                        .add(node.apply(e.node()));
            }
        }
        return out;
    }
}
