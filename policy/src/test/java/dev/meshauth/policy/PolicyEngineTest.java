package dev.meshauth.policy;

import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.endpoint.NodeInfo;
import dev.meshauth.policy.eval.AuthRequirement;
import dev.meshauth.policy.eval.EntryValue;
import dev.meshauth.policy.eval.PolicyEngine;
import dev.meshauth.policy.model.AuthType;
import dev.meshauth.policy.model.Direction;
import dev.meshauth.policy.model.Policy;
import dev.meshauth.policy.yaml.PolicyParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Evaluation rules, one row per rule an operator relies on. */
class PolicyEngineTest {
    static final NodeInfo N1 = new NodeInfo("node-1", 1, "127.0.0.1");
    static final NodeInfo N2 = new NodeInfo("node-2", 2, "127.0.0.2");
    static final Endpoint DB = ep("db", "prod", 1000, "node-1", "app", "db");
    static final Endpoint WEB = ep("web", "prod", 2000, "node-2", "app", "web");
    static final Endpoint JOB = ep("job", "prod", 3000, "node-1", "app", "job", "tier", "batch");
    static final Endpoint DEV_WEB = ep("web", "dev", 4000, "node-2", "app", "web");
    static final List<Endpoint> ALL = List.of(DB, WEB, JOB, DEV_WEB);

    static Endpoint ep(String name, String ns, long id, String node, String... kv) {
        Map<String, String> labels = new java.util.HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            labels.put(kv[i], kv[i + 1]);
        }
        labels.put("io.kubernetes.pod.namespace", ns);
        return new Endpoint(name, ns, labels, id, node, "198.18.0." + (id / 1000), Optional.empty());
    }

    static List<Policy> policies(String yaml) throws PolicyException {
        return PolicyParser.parse("t.yaml", yaml).policies();
    }

    static String cnp(String ns, String spec) {
        return "apiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p, namespace: " + ns + "}\nspec:\n"
                + spec.indent(2);
    }

    /** Expected verdict: "allow", "deny", "auth:spire", "auth:test-always-fail", or "open" (not selected). */
    static String verdict(PolicyEngine e, Endpoint to, Endpoint from, int port, int proto) {
        Optional<EntryValue> v = e.lookup(to.identity(), from.identity(), port, proto, Direction.INGRESS);
        if (v.isEmpty()) {
            return "open";
        }
        if (v.get().deny()) {
            return "deny";
        }
        return v.get().authType() == AuthType.DISABLED ? "allow" : "auth:" + v.get().authType();
    }

    static Stream<Arguments> rows() {
        String dbSelector = "endpointSelector: {matchLabels: {app: db}}\n";
        return Stream.of(
                Arguments.of("matchExpressions In selects the peer", cnp("prod", dbSelector + """
                        ingress:
                        - fromEndpoints: [{matchExpressions: [{key: app, operator: In, values: [web, api]}]}]
                        """), WEB, 80, 6, "allow"),
                Arguments.of("NotIn excludes the peer", cnp("prod", dbSelector + """
                        ingress:
                        - fromEndpoints: [{matchExpressions: [{key: app, operator: NotIn, values: [web]}]}]
                        """), WEB, 80, 6, "deny"),
                Arguments.of("Exists on a label the peer lacks", cnp("prod", dbSelector + """
                        ingress:
                        - fromEndpoints: [{matchExpressions: [{key: tier, operator: Exists}]}]
                        """), WEB, 80, 6, "deny"),
                Arguments.of("DoesNotExist on a label the peer lacks", cnp("prod", dbSelector + """
                        ingress:
                        - fromEndpoints: [{matchExpressions: [{key: tier, operator: DoesNotExist}]}]
                        """), WEB, 80, 6, "allow"),
                Arguments.of("a port range includes its end", cnp("prod", dbSelector + """
                        ingress:
                        - toPorts: [{ports: [{port: "8000", endPort: 8080, protocol: TCP}]}]
                        """), WEB, 8080, 6, "allow"),
                Arguments.of("a port range excludes the next port", cnp("prod", dbSelector + """
                        ingress:
                        - toPorts: [{ports: [{port: "8000", endPort: 8080, protocol: TCP}]}]
                        """), WEB, 8081, 6, "deny"),
                Arguments.of("protocol ANY on a port covers UDP", cnp("prod", dbSelector + """
                        ingress:
                        - toPorts: [{ports: [{port: "53"}]}]
                        """), WEB, 53, 17, "allow"),
                Arguments.of("an any-port deny beats a specific allow", cnp("prod", dbSelector + """
                        ingress:
                        - fromEndpoints: [{matchLabels: {app: web}}]
                          toPorts: [{ports: [{port: "80", protocol: TCP}]}]
                        ingressDeny:
                        - fromEndpoints: [{matchLabels: {app: web}}]
                        """), WEB, 80, 6, "deny"),
                Arguments.of("a deny for another peer leaves the allow", cnp("prod", dbSelector + """
                        ingress:
                        - fromEndpoints: [{matchLabels: {app: web}}]
                        ingressDeny:
                        - fromEndpoints: [{matchLabels: {app: job}}]
                        """), WEB, 80, 6, "allow"),
                Arguments.of("required beats a rule without authentication", cnp("prod", dbSelector + """
                        ingress:
                        - fromEndpoints: [{matchLabels: {app: web}}]
                          toPorts: [{ports: [{port: "80", protocol: TCP}]}]
                        - fromEndpoints: [{matchLabels: {app: web}}]
                          toPorts: [{ports: [{port: "80", protocol: TCP}]}]
                          authentication: {mode: required}
                        """), WEB, 80, 6, "auth:spire"),
                Arguments.of("the higher auth type wins between explicit ones", cnp("prod", dbSelector + """
                        ingress:
                        - fromEndpoints: [{matchLabels: {app: web}}]
                          authentication: {mode: test-always-fail}
                        - fromEndpoints: [{matchLabels: {app: web}}]
                          authentication: {mode: required}
                        """), WEB, 80, 6, "auth:test-always-fail"),
                Arguments.of("explicit required on a generic rule reaches a specific rule without auth", cnp("prod", dbSelector + """
                        ingress:
                        - fromEndpoints: [{matchLabels: {app: web}}]
                          toPorts: [{ports: [{port: "80", protocol: TCP}]}]
                        - fromEndpoints: [{}]
                          authentication: {mode: required}
                        """), WEB, 80, 6, "auth:spire"),
                Arguments.of("explicit disabled on the specific rule is kept", cnp("prod", dbSelector + """
                        ingress:
                        - fromEndpoints: [{matchLabels: {app: web}}]
                          toPorts: [{ports: [{port: "80", protocol: TCP}]}]
                          authentication: {mode: disabled}
                        - fromEndpoints: [{}]
                          authentication: {mode: required}
                        """), WEB, 80, 6, "allow"),
                Arguments.of("a namespaced policy admits only its namespace", cnp("prod", dbSelector + """
                        ingress:
                        - fromEndpoints: [{matchLabels: {app: web}}]
                        """), DEV_WEB, 80, 6, "deny"),
                Arguments.of("naming the namespace label crosses namespaces", cnp("prod", dbSelector + """
                        ingress:
                        - fromEndpoints: [{matchLabels: {app: web, k8s:io.kubernetes.pod.namespace: dev}}]
                        """), DEV_WEB, 80, 6, "allow"),
                Arguments.of("a clusterwide policy admits every namespace", """
                        apiVersion: cilium.io/v2
                        kind: CiliumClusterwideNetworkPolicy
                        metadata: {name: cw}
                        spec:
                          endpointSelector: {matchLabels: {app: db}}
                          ingress:
                          - fromEndpoints: [{matchLabels: {app: web}}]
                        """, DEV_WEB, 80, 6, "allow"),
                Arguments.of("a policy in another namespace does not select the endpoint", cnp("dev", dbSelector + """
                        ingress: []
                        """), WEB, 80, 6, "open"),
                Arguments.of("an egress-only policy leaves ingress open", cnp("prod", dbSelector + """
                        egress:
                        - toEndpoints: [{matchLabels: {app: web}}]
                        """), WEB, 80, 6, "open"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void verdicts(String name, String yaml, Endpoint from, int port, int proto, String expected) throws Exception {
        PolicyEngine e = PolicyEngine.evaluate(policies(yaml), ALL);
        assertThat(verdict(e, DB, from, port, proto)).isEqualTo(expected);
    }

    @Test
    void requiredAuthCoversBothDirectionsAndNodeIds() throws Exception {
        PolicyEngine e = PolicyEngine.evaluate(policies(cnp("prod", """
                endpointSelector: {matchLabels: {app: web}}
                egress:
                - toEndpoints: [{matchLabels: {app: db}}]
                  authentication: {mode: required}
                ingress:
                - fromEndpoints: [{matchLabels: {app: job}}]
                  authentication: {mode: required}
                """)), ALL);
        assertThat(e.requiredAuth(ALL, List.of(N1, N2))).containsExactlyInAnyOrder(
                new AuthRequirement("node-2", WEB.identity(), DB.identity(), 1, AuthType.SPIRE),
                new AuthRequirement("node-2", WEB.identity(), JOB.identity(), 1, AuthType.SPIRE));
    }

    @Test
    void aPeerOnANodeWithoutAnIdIsNeverKeyedAsThisNode() throws Exception {
        PolicyEngine e = PolicyEngine.evaluate(policies(cnp("prod", """
                endpointSelector: {matchLabels: {app: web}}
                egress:
                - toEndpoints: [{matchLabels: {app: db}}]
                  authentication: {mode: required}
                """)), ALL);
        // node-1 (where db runs) is not among the known nodes: remote node id 0 would mean web's own node.
        assertThat(e.requiredAuth(ALL, List.of(N2))).noneMatch(r -> r.remote() == DB.identity());
        assertThat(e.requiredAuth(ALL, List.of(N1, N2))).contains(
                new AuthRequirement("node-2", WEB.identity(), DB.identity(), 1, AuthType.SPIRE));
    }

    @Test
    void reservedIdentitiesAreNeverAuthenticated() throws Exception {
        Endpoint hostLike = ep("host", "prod", 1, "node-1", "app", "web");
        PolicyEngine e = PolicyEngine.evaluate(policies(cnp("prod", """
                endpointSelector: {matchLabels: {app: db}}
                ingress:
                - authentication: {mode: required}
                """)), List.of(DB, hostLike));
        assertThat(e.requiredAuth(List.of(DB, hostLike), List.of(N1))).isEmpty();
    }

    @Test
    void datapathEntriesUseWildcardsAndExpandAnyProtocolOnAPort() throws Exception {
        PolicyEngine e = PolicyEngine.evaluate(policies(cnp("prod", """
                endpointSelector: {matchLabels: {app: db}}
                ingress:
                - toPorts: [{ports: [{port: "53"}]}]
                - fromEndpoints: [{matchLabels: {app: web}}]
                """)), ALL);
        assertThat(e.entries().keySet()).extracting(k -> k.remote() + "/" + k.port() + "/" + k.prefixLen() + "/" + k.protocol())
                .containsExactlyInAnyOrder("0/53/16/6", "0/53/16/17", "0/53/16/132", WEB.identity() + "/0/0/0");
    }
}
