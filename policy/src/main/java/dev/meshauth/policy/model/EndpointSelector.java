package dev.meshauth.policy.model;

import java.util.List;
import java.util.Map;

/**
 * A label selector over endpoint labels: every matchLabels pair and every expression must hold. Keys
 * are stored without Cilium's source prefix ({@code k8s:}, {@code any:}): endpoints here carry
 * Kubernetes labels only. An empty selector matches every endpoint.
 *
 * @param matchLabels      exact key=value pairs
 * @param matchExpressions expressions
 */
public record EndpointSelector(Map<String, String> matchLabels, List<Requirement> matchExpressions) {
    /** The Kubernetes namespace label Cilium puts on every endpoint. */
    public static final String NAMESPACE_LABEL = "io.kubernetes.pod.namespace";

    /** Copies. */
    public EndpointSelector {
        matchLabels = Map.copyOf(matchLabels);
        matchExpressions = List.copyOf(matchExpressions);
    }

    /** True if {@code labels} satisfy the selector. */
    public boolean matches(Map<String, String> labels) {
        for (Map.Entry<String, String> e : matchLabels.entrySet()) {
            if (!e.getValue().equals(labels.get(e.getKey()))) {
                return false;
            }
        }
        for (Requirement r : matchExpressions) {
            if (!r.matches(labels)) {
                return false;
            }
        }
        return true;
    }

    /** True if the selector says anything about the namespace label. */
    public boolean constrainsNamespace() {
        return matchLabels.containsKey(NAMESPACE_LABEL)
                || matchExpressions.stream().anyMatch(r -> r.key().equals(NAMESPACE_LABEL));
    }

    /** The same selector restricted to {@code namespace}. */
    public EndpointSelector inNamespace(String namespace) {
        var labels = new java.util.HashMap<>(matchLabels);
        labels.put(NAMESPACE_LABEL, namespace);
        return new EndpointSelector(labels, matchExpressions);
    }
}
