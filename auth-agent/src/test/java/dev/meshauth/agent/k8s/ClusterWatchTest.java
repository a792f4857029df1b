package dev.meshauth.agent.k8s;

import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.eval.AuthRequirement;
import dev.meshauth.policy.eval.PolicyEngine;
import dev.meshauth.policy.model.AuthType;
import dev.meshauth.policy.yaml.PolicyParser;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static dev.meshauth.testing.Eventually.eventually;
import static dev.meshauth.agent.k8s.CiliumObjects.endpoint;
import static dev.meshauth.agent.k8s.CiliumObjects.node;
import static org.assertj.core.api.Assertions.assertThat;

/** CiliumNode and CiliumEndpoint informers feeding the evaluation, against the mock API server. */
class ClusterWatchTest {
    @org.junit.jupiter.api.extension.RegisterExtension
    static final MockKubernetes api = new MockKubernetes();


    @Test
    void endpointsAndNodesFromCiliumObjectsDriveRequiredAuth() throws Exception {
        var nodes = api.client().genericKubernetesResources(CiliumResources.NODE);
        var eps = api.client().genericKubernetesResources(CiliumResources.ENDPOINT).inNamespace("default");
        nodes.resource(node("node-1", "198.18.9.1")).create();
        nodes.resource(node("node-2", "198.18.9.2")).create();
        eps.resource(endpoint("deathstar-1", 1001, "198.18.1.10", "198.18.9.1", "k8s:org=empire", "k8s:class=deathstar")).create();
        eps.resource(endpoint("tiefighter", 1002, "198.18.2.20", "198.18.9.2", "k8s:org=empire", "k8s:class=tiefighter")).create();
        eps.resource(endpoint("pending", 1003, "198.18.2.21", "198.18.9.99", "k8s:org=empire")).create(); // unknown node

        try (ClusterWatch w = ClusterWatch.start(api.client(), Duration.ofMinutes(10), () -> { })) {
            eventually("w.synced() && w.endpoints().size() == 2", Duration.ofSeconds(10),
                    () -> w.synced() && w.endpoints().size() == 2);
            assertThat(w.nodes()).extracting(n -> n.name() + "=" + n.internalIp())
                    .containsExactlyInAnyOrder("node-1=198.18.9.1", "node-2=198.18.9.2");
            Endpoint death = w.endpoints().stream().filter(e -> e.name().equals("deathstar-1")).findFirst().orElseThrow();
            assertThat(death.labels()).containsEntry("org", "empire").containsEntry("io.kubernetes.pod.namespace", "default");
            assertThat(death.node()).isEqualTo("node-1");

            var policies = PolicyParser.parse("sw.yaml", """
                    apiVersion: cilium.io/v2
                    kind: CiliumNetworkPolicy
                    metadata: {name: rule1}
                    spec:
                      endpointSelector: {matchLabels: {class: deathstar}}
                      ingress:
                      - fromEndpoints: [{matchLabels: {org: empire}}]
                        authentication: {mode: required}
                    """).policies();
            int node2 = w.nodes().stream().filter(n -> n.name().equals("node-2")).findFirst().orElseThrow().id();
            assertThat(PolicyEngine.evaluate(policies, w.endpoints()).requiredAuth(w.endpoints(), w.nodes()))
                    .containsExactly(new AuthRequirement("node-1", 1001, 1002, node2, AuthType.SPIRE));

            eps.withName("tiefighter").delete();
            eventually("w.endpoints().size() == 1", Duration.ofSeconds(10), () -> w.endpoints().size() == 1);
        }
    }

    /** This test's nodes (the mock API server lives as long as the class). */
    private static java.util.List<dev.meshauth.policy.endpoint.NodeInfo> mine(ClusterWatch w) {
        return w.nodes().stream().filter(n -> n.name().matches("node-[a-d]")).toList();
    }

    @Test
    void nodeIdsSurviveARestartOfTheWatchAndADeletedNodesIdIsNotHandedToTheNext(
            @org.junit.jupiter.api.io.TempDir java.nio.file.Path dir) throws Exception {
        var nodes = api.client().genericKubernetesResources(CiliumResources.NODE);
        for (String n : java.util.List.of("node-a", "node-b", "node-c")) {
            nodes.resource(node(n, "198.18.8." + (n.charAt(5) - 'a' + 1))).create();
        }
        var store = new dev.meshauth.policy.nodeid.NodeIdStore(dir.resolve("node-ids"));
        java.util.Map<String, Integer> first = new java.util.TreeMap<>();
        try (ClusterWatch w = ClusterWatch.start(api.client(), Duration.ofMinutes(10),
                dev.meshauth.policy.nodeid.NodeIds.persistent(store, (st, e) -> { throw new AssertionError(e); }), () -> { })) {
            eventually("three nodes", Duration.ofSeconds(10), () -> w.synced() && mine(w).size() == 3);
            mine(w).forEach(n -> first.put(n.name(), n.id()));
            nodes.withName("node-b").delete();
            eventually("node-b gone", Duration.ofSeconds(10), () -> mine(w).size() == 2);
        }
        nodes.resource(node("node-d", "198.18.8.4")).create();
        try (ClusterWatch w = ClusterWatch.start(api.client(), Duration.ofMinutes(10),
                dev.meshauth.policy.nodeid.NodeIds.persistent(store, (st, e) -> { throw new AssertionError(e); }), () -> { })) {
            eventually("three nodes again", Duration.ofSeconds(10), () -> w.synced() && mine(w).size() == 3);
            java.util.Map<String, Integer> now = new java.util.TreeMap<>();
            mine(w).forEach(n -> now.put(n.name(), n.id()));
            assertThat(now).containsEntry("node-a", first.get("node-a")).containsEntry("node-c", first.get("node-c"));
            assertThat(now.get("node-d")).as("a new id, not node-b's").isNotIn(first.values());
        } finally {
            for (String n : java.util.List.of("node-a", "node-c", "node-d")) {
                nodes.withName(n).delete();
            }
        }
    }
}
