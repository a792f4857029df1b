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
 * @param iface     interface for the standalone datapath: inside {@code netns} if that is given (the
 *                  pod's own interface: its ingress is traffic into the pod), else the host-side one in
 *                  the agent's namespace (its egress is traffic into the pod)
 * @param netns     the endpoint's network namespace name ({@code ip netns}), if the datapath should attach
 *                  inside it
 * @param ipv6      its IPv6 address, if dual-stack
 */
public record Endpoint(String name, String namespace, Map<String, String> labels, long identity, String node, String ipv4,
        Optional<String> iface, Optional<String> netns, Optional<String> ipv6) {
    /** Copies labels. */
    public Endpoint {
        labels = Map.copyOf(labels);
    }

    /** An IPv4-only endpoint. */
    public Endpoint(String name, String namespace, Map<String, String> labels, long identity, String node, String ipv4,
            Optional<String> iface, Optional<String> netns) {
        this(name, namespace, labels, identity, node, ipv4, iface, netns, Optional.empty());
    }

    /** Every address of the endpoint: IPv4, then IPv6 if it has one. */
    public java.util.List<String> addresses() {
        return ipv6.isPresent() ? java.util.List.of(ipv4, ipv6.get()) : java.util.List.of(ipv4);
    }

    /** An endpoint without a namespace for the datapath. */
    public Endpoint(String name, String namespace, Map<String, String> labels, long identity, String node, String ipv4,
            Optional<String> iface) {
        this(name, namespace, labels, identity, node, ipv4, iface, Optional.empty());
    }

    /** "namespace/name". */
    public String id() {
        return namespace + "/" + name;
    }
}
