package dev.meshauth.policy;

import dev.meshauth.policy.model.AuthMode;
import dev.meshauth.policy.model.Protocol;
import dev.meshauth.policy.yaml.PolicyParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Bad policies get a located, specific error; good ones parse to the expected model. */
class PolicyParserTest {
    private static final String HEAD = """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata:
              name: p
              namespace: ns1
            spec:
              endpointSelector:
                matchLabels: {app: db}
            """;

    static Stream<Arguments> badPolicies() {
        return Stream.of(
                Arguments.of("misspelled authentication", HEAD + """
                          ingress:
                          - fromEndpoints: [{}]
                            authentcation:
                              mode: required
                        """, "p.yaml:11:5: spec.ingress[0]: unknown field 'authentcation' (did you mean 'authentication'?)"),
                Arguments.of("invalid mode", HEAD + """
                          ingress:
                          - authentication: {mode: requird}
                        """, "p.yaml:10:28: spec.ingress[0].authentication.mode: must be disabled, required or"
                        + " test-always-fail, got 'requird' (did you mean 'required'?)"),
                Arguments.of("port out of range", HEAD + """
                          ingress:
                          - toPorts:
                            - ports: [{port: "70000", protocol: TCP}]
                        """, "p.yaml:11:22: spec.ingress[0].toPorts[0].ports[0].port: must be between 0 and 65535, got 70000"),
                Arguments.of("unknown protocol", HEAD + """
                          ingress:
                          - toPorts:
                            - ports: [{port: "53", protocol: STCP}]
                        """, "spec.ingress[0].toPorts[0].ports[0].protocol: must be TCP, UDP, SCTP or ANY, got 'STCP'"),
                Arguments.of("a port that is neither a number nor a name", HEAD + """
                          ingress:
                          - toPorts:
                            - ports: [{port: "HTTP_8080"}]
                        """, "must be a number 0..65535 or a port name (IANA_SVC_NAME), got 'HTTP_8080'"),
                Arguments.of("misspelled entity", HEAD + """
                          ingress:
                          - fromEntities: [wrold]
                        """, "spec.ingress[0].fromEntities: unknown entity 'wrold': must be one of all, world,"),
                Arguments.of("enableDefaultDeny that is not a boolean", HEAD + """
                          enableDefaultDeny: {ingress: "no"}
                          ingress:
                          - fromEntities: [world]
                        """, "spec.enableDefaultDeny.ingress: must be true or false, got 'no'"),
                Arguments.of("selector that can never match", HEAD + """
                          ingress:
                          - fromEndpoints:
                            - matchLabels: {app: web}
                              matchExpressions: [{key: app, operator: NotIn, values: [web]}]
                        """, "spec.ingress[0].fromEndpoints[0]: this selector can never match: app=web and app NotIn [web]"),
                Arguments.of("In without values", HEAD + """
                          ingress:
                          - fromEndpoints:
                            - matchExpressions: [{key: app, operator: In}]
                        """, "In needs at least one value"),
                Arguments.of("misspelled operator", HEAD + """
                          ingress:
                          - fromEndpoints:
                            - matchExpressions: [{key: app, operator: Exist}]
                        """, "got 'Exist' (did you mean 'Exists'?)"),
                Arguments.of("authentication on a deny rule", HEAD + """
                          ingressDeny:
                          - fromEndpoints: [{}]
                            authentication: {mode: required}
                        """, "spec.ingressDeny[0]: unknown field 'authentication'"),
                Arguments.of("wrong apiVersion", HEAD.replace("cilium.io/v2", "cilium.io/v1") , "apiVersion: must be cilium.io/v2"),
                Arguments.of("misspelled kind", HEAD.replace("CiliumNetworkPolicy", "CiliumNetworkPolcy"),
                        "(did you mean 'CiliumNetworkPolicy'?)"),
                Arguments.of("missing endpointSelector", """
                        apiVersion: cilium.io/v2
                        kind: CiliumNetworkPolicy
                        metadata: {name: p}
                        spec:
                          ingress: []
                        """, "spec.endpointSelector: required"),
                Arguments.of("malformed YAML", "apiVersion: [", "malformed YAML"),
                Arguments.of("a key given twice", HEAD + """
                          ingress:
                          - fromEntities: [world]
                          ingress:
                          - fromEntities: [cluster]
                        """, "spec: 'ingress' is given twice (first on line"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("badPolicies")
    void badInputIsRefusedWithWhereAndWhat(String name, String yaml, String expected) {
        assertThatThrownBy(() -> PolicyParser.parse("p.yaml", yaml))
                .isInstanceOf(PolicyException.class)
                .hasMessageContaining(expected);
    }

    @Test
    void everyProblemIsReportedNotJustTheFirst() {
        String yaml = HEAD + """
                  ingress:
                  - authentcation: {mode: required}
                  - toPorts: [{ports: [{port: "0", endPort: 5}]}]
                  egres: []
                """;
        assertThatThrownBy(() -> PolicyParser.parse("p.yaml", yaml))
                .isInstanceOfSatisfying(PolicyException.class, e -> assertThat(e.problems()).hasSize(3));
    }

    @Test
    void parsesRulesPortsRangesAndModes() throws Exception {
        var result = PolicyParser.parse("p.yaml", HEAD + """
                  ingress:
                  - fromEndpoints: [{matchLabels: {"k8s:app": web}}]
                    toPorts:
                    - ports: [{port: "8000", endPort: 8010, protocol: TCP}, {port: "53"}]
                    authentication: {mode: test-always-fail}
                  - toPorts:
                    - ports: [{port: "80"}]
                      rules: {http: [{method: GET}]}
                ---
                apiVersion: cilium.io/v2
                kind: CiliumClusterwideNetworkPolicy
                metadata: {name: cw}
                spec:
                  endpointSelector: {}
                  egressDeny:
                  - toEndpoints: [{matchLabels: {app: secret}}]
                """);
        assertThat(result.policies()).hasSize(2);
        var p = result.policies().getFirst();
        assertThat(p.id()).isEqualTo("ns1/p");
        assertThat(p.subject().matchLabels()).containsEntry("app", "db").containsEntry("io.kubernetes.pod.namespace", "ns1");
        var r0 = p.rules().getFirst();
        assertThat(r0.auth()).contains(AuthMode.TEST_ALWAYS_FAIL);
        assertThat(r0.peers().endpoints().getFirst().matchLabels()).containsEntry("app", "web")
                .containsEntry("io.kubernetes.pod.namespace", "ns1");
        assertThat(r0.ports()).extracting(x -> x.port() + "-" + x.endPort() + "/" + x.protocol())
                .containsExactly("8000-8010/TCP", "53-53/ANY");
        assertThat(p.rules().get(1).unenforced()).singleElement().asString()
                .isEqualTo("p.yaml:16: spec.ingress[1].toPorts[0].rules: L7 rules are Cilium's proxy; meshauth enforces"
                        + " the port and the authentication, not the L7 rules");
        assertThat(result.warnings()).isEqualTo(p.rules().get(1).unenforced());
        var cw = result.policies().get(1);
        assertThat(cw.clusterwide()).isTrue();
        assertThat(cw.subject().matchLabels()).isEmpty();
        assertThat(cw.rules().getFirst().deny()).isTrue();
        assertThat(cw.rules().getFirst().peers().endpoints().getFirst().matchLabels()).doesNotContainKey("io.kubernetes.pod.namespace");
        assertThat(Protocol.valueOf("ANY").number()).isZero();
    }
}
