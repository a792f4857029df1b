package dev.meshauth.agent.k8s;

import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;

import java.util.List;
import java.util.Map;

/** Cilium objects as Cilium writes them, for tests against the mock API server (shared via the test-jar). */
public final class CiliumObjects {
    private CiliumObjects() {
    }

    /** A CiliumNode with an ExternalIP listed before its InternalIP (the agent must pick the InternalIP). */
    public static GenericKubernetesResource node(String name, String internalIp) {
        return new GenericKubernetesResourceBuilder().withApiVersion("cilium.io/v2").withKind("CiliumNode")
                .withNewMetadata().withName(name).endMetadata()
                .addToAdditionalProperties("spec", Map.of("addresses", List.of(
                        Map.of("type", "ExternalIP", "ip", "203.0.113.7"),
                        Map.of("type", "InternalIP", "ip", internalIp))))
                .build();
    }

    /** As {@link #node(String, String)}, owned by the Kubernetes Node with {@code nodeUid}, as Cilium makes it. */
    public static GenericKubernetesResource ownedNode(String name, String internalIp, String nodeUid) {
        GenericKubernetesResource r = node(name, internalIp);
        r.getMetadata().setOwnerReferences(List.of(new io.fabric8.kubernetes.api.model.OwnerReferenceBuilder()
                .withApiVersion("v1").withKind("Node").withName(name).withUid(nodeUid).build()));
        return r;
    }

    /** A CiliumEndpoint in namespace default with its identity, IPv4 address, node IP and identity labels. */
    public static GenericKubernetesResource endpoint(String name, long identity, String ip, String nodeIp, String... labels) {
        return new GenericKubernetesResourceBuilder().withApiVersion("cilium.io/v2").withKind("CiliumEndpoint")
                .withNewMetadata().withName(name).withNamespace("default").endMetadata()
                .addToAdditionalProperties("status", Map.of(
                        "identity", Map.of("id", identity, "labels", List.of(labels)),
                        "networking", Map.of("addressing", List.of(Map.of("ipv4", ip)), "node", nodeIp)))
                .build();
    }

    /** A CiliumIdentity named {@code name} (normally the identity number). */
    public static GenericKubernetesResource identity(String name) {
        return new GenericKubernetesResourceBuilder().withApiVersion("cilium.io/v2").withKind("CiliumIdentity")
                .withNewMetadata().withName(name).endMetadata()
                .addToAdditionalProperties("security-labels", Map.of("k8s:app", "app" + name))
                .build();
    }

    /**
     * Cilium's Star Wars policy {@code rule1} in namespace default: the deathstar's port 80 takes the
     * empire's ships, with {@code authentication.mode: required}.
     */
    public static GenericKubernetesResource starWarsPolicy() {
        return new GenericKubernetesResourceBuilder().withApiVersion("cilium.io/v2").withKind("CiliumNetworkPolicy")
                .withNewMetadata().withName("rule1").withNamespace("default").endMetadata()
                .addToAdditionalProperties("spec", Map.of(
                        "endpointSelector", Map.of("matchLabels", Map.of("org", "empire", "class", "deathstar")),
                        "ingress", List.of(Map.of(
                                "fromEndpoints", List.of(Map.of("matchLabels", Map.of("org", "empire"))),
                                "authentication", Map.of("mode", "required"),
                                "toPorts", List.of(Map.of("ports", List.of(Map.of("port", "80", "protocol", "TCP"))))))))
                .build();
    }
}
