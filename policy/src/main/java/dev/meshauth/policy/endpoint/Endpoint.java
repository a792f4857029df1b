package dev.meshauth.policy.endpoint;

import java.util.Map;
import java.util.Optional;

/**
 * A workload endpoint.
 *
 * @param name      pod name
 * @param namespace pod namespace
 * @param labels    Kubernetes labels, plus {@code io.kubernetes.pod.namespace}
 * @param identity  security identity
 * @param node      node name
 * @param ipv4      address
 * @param iface     host-side interface for the standalone datapath, if known
 */
public record Endpoint(String name, String namespace, Map<String, String> labels, long identity, String node, String ipv4,
        Optional<String> iface) {
    /** Copies labels. */
    public Endpoint {
        labels = Map.copyOf(labels);
    }

    /** "namespace/name". */
    public String id() {
        return namespace + "/" + name;
    }
}
