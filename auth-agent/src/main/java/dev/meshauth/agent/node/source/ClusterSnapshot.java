package dev.meshauth.agent.node.source;

import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.endpoint.NodeInfo;
import dev.meshauth.policy.model.Policy;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * One consistent view of the cluster as a source sees it.
 *
 * @param nodes      nodes with their ids and InternalIPs
 * @param endpoints  endpoints with identities and nodes
 * @param policies   policies in force
 * @param identities every security identity in the cluster, when the source knows it (garbage
 *                   collection of deleted identities is judged only then)
 */
public record ClusterSnapshot(List<NodeInfo> nodes, List<Endpoint> endpoints, List<Policy> policies,
        Optional<Set<Long>> identities) {
    /** Copies. */
    public ClusterSnapshot {
        nodes = List.copyOf(nodes);
        endpoints = List.copyOf(endpoints);
        policies = List.copyOf(policies);
        identities = identities.map(Set::copyOf);
    }

    /** The identities of the endpoints listed: the cluster's identities when the source lists them all. */
    public static Set<Long> identitiesOf(List<Endpoint> endpoints) {
        Set<Long> out = new HashSet<>();
        endpoints.forEach(e -> out.add(e.identity()));
        return out;
    }
}
