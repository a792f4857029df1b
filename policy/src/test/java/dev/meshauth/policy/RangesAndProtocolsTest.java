package dev.meshauth.policy;

import dev.meshauth.policy.eval.PolicyEngine;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.stream.Stream;

import static dev.meshauth.policy.PolicyEngineTest.ALL;
import static dev.meshauth.policy.PolicyEngineTest.DB;
import static dev.meshauth.policy.PolicyEngineTest.JOB;
import static dev.meshauth.policy.PolicyEngineTest.WEB;
import static dev.meshauth.policy.PolicyEngineTest.cnp;
import static dev.meshauth.policy.PolicyEngineTest.policies;
import static dev.meshauth.policy.PolicyEngineTest.verdict;
import static org.assertj.core.api.Assertions.assertThat;

/** Port ranges, every protocol under default deny, ICMP rules, and overlaps a first-hit lookup must not miss. */
class RangesAndProtocolsTest {
    private static final int TCP = 6;
    private static final int UDP = 17;
    private static final int SCTP = 132;
    private static final int ICMP = 1;
    private static final int ICMPV6 = 58;
    private static final int RAW = 253;

    private static PolicyEngine engine(String spec) throws PolicyException {
        return PolicyEngine.evaluate(policies(cnp("prod", spec)), ALL);
    }

    static Stream<Arguments> rows() {
        String range = """
                endpointSelector: {matchLabels: {app: db}}
                ingress:
                - fromEndpoints: [{matchLabels: {app: web}}]
                  toPorts: [{ports: [{port: "8000", endPort: 8999, protocol: TCP}]}]
                """;
        String anyOn53 = """
                endpointSelector: {matchLabels: {app: db}}
                ingress:
                - toPorts: [{ports: [{port: "53", protocol: ANY}]}]
                """;
        String l3 = """
                endpointSelector: {matchLabels: {app: db}}
                ingress:
                - fromEndpoints: [{matchLabels: {app: web}}]
                """;
        String icmp = """
                endpointSelector: {matchLabels: {app: db}}
                ingress:
                - icmps: [{fields: [{type: 8}, {type: EchoRequest, family: IPv6}]}]
                """;
        String denySsh = """
                endpointSelector: {matchLabels: {app: db}}
                ingress:
                - fromEndpoints: [{matchLabels: {app: web}}]
                ingressDeny:
                - toPorts: [{ports: [{port: "22", protocol: TCP}]}]
                """;
        String authOn443 = """
                endpointSelector: {matchLabels: {app: db}}
                ingress:
                - fromEndpoints: [{matchLabels: {app: web}}]
                - toPorts: [{ports: [{port: "443", protocol: TCP}]}]
                  authentication: {mode: required}
                """;
        String denyInsideRange = """
                endpointSelector: {matchLabels: {app: db}}
                ingress:
                - fromEndpoints: [{matchLabels: {app: web}}]
                  toPorts: [{ports: [{port: "1", endPort: 1023, protocol: TCP}]}]
                ingressDeny:
                - fromEndpoints: [{matchLabels: {app: web}}]
                  toPorts: [{ports: [{port: "80", endPort: 83, protocol: TCP}]}]
                """;
        return Stream.of(
                Arguments.of("first port of a range", range, WEB, 8000, TCP, "allow"),
                Arguments.of("last port of a range", range, WEB, 8999, TCP, "allow"),
                Arguments.of("the port before a range", range, WEB, 7999, TCP, "deny"),
                Arguments.of("the port after a range", range, WEB, 9000, TCP, "deny"),
                Arguments.of("the range over another protocol", range, WEB, 8500, UDP, "deny"),
                Arguments.of("ANY on a port: TCP", anyOn53, JOB, 53, TCP, "allow"),
                Arguments.of("ANY on a port: UDP", anyOn53, JOB, 53, UDP, "allow"),
                Arguments.of("ANY on a port: SCTP", anyOn53, JOB, 53, SCTP, "allow"),
                Arguments.of("ANY on a port is not ICMP", anyOn53, JOB, 8, ICMP, "deny"),
                Arguments.of("ANY on a port is not a raw protocol", anyOn53, JOB, 0, RAW, "deny"),
                Arguments.of("an L3 rule admits a raw protocol", l3, WEB, 0, RAW, "allow"),
                Arguments.of("an L3 rule admits ICMP", l3, WEB, 8, ICMP, "allow"),
                Arguments.of("default deny drops a raw protocol", l3, JOB, 0, RAW, "deny"),
                Arguments.of("default deny drops SCTP", l3, JOB, 9, SCTP, "deny"),
                Arguments.of("default deny drops ICMP echo", l3, JOB, 8, ICMP, "deny"),
                Arguments.of("icmps admits echo requests", icmp, JOB, 8, ICMP, "allow"),
                Arguments.of("icmps: the type matters", icmp, JOB, 13, ICMP, "deny"),
                Arguments.of("icmps IPv6 by name", icmp, JOB, 128, ICMPV6, "allow"),
                Arguments.of("icmps IPv6 is not IPv4 type 128", icmp, JOB, 128, ICMP, "deny"),
                Arguments.of("an L4-only deny beats an L3 allow of a specific peer", denySsh, WEB, 22, TCP, "deny"),
                Arguments.of("the L3 allow stands elsewhere", denySsh, WEB, 80, TCP, "allow"),
                Arguments.of("L4-only auth reaches a peer's L3 allow on that port", authOn443, WEB, 443, TCP, "auth:spire"),
                Arguments.of("the L3 allow needs no auth elsewhere", authOn443, WEB, 80, TCP, "allow"),
                Arguments.of("L4-only auth for anyone else", authOn443, JOB, 443, TCP, "auth:spire"),
                Arguments.of("a deny inside an allowed range", denyInsideRange, WEB, 81, TCP, "deny"),
                Arguments.of("just below the deny", denyInsideRange, WEB, 79, TCP, "allow"),
                Arguments.of("just above the deny", denyInsideRange, WEB, 84, TCP, "allow"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void verdicts(String name, String spec, dev.meshauth.policy.endpoint.Endpoint from, int port, int proto, String expected)
            throws Exception {
        assertThat(verdict(engine(spec), DB, from, port, proto)).isEqualTo(expected);
    }

    @Test
    void largeRangesAreAFewKeysNotOnePerPort() throws Exception {
        // The policy that stalled agents: three 4,096-port ranges, protocol ANY, from all endpoints.
        PolicyEngine e = engine("""
                endpointSelector: {}
                ingress:
                - fromEndpoints: [{}]
                  toPorts:
                  - ports:
                    - {port: "10000", endPort: 14095, protocol: ANY}
                    - {port: "20000", endPort: 24095, protocol: ANY}
                    - {port: "30000", endPort: 34095, protocol: ANY}
                """);
        int identities = 3; // fromEndpoints [{}] is namespace-scoped: prod's three endpoints
        int locals = 3;
        int perRange = dev.meshauth.policy.eval.PortPrefix.of(10000, 14095).size()
                + dev.meshauth.policy.eval.PortPrefix.of(20000, 24095).size()
                + dev.meshauth.policy.eval.PortPrefix.of(30000, 34095).size();
        assertThat(e.entries()).hasSize(locals * identities * 3 * perRange);
        assertThat(perRange).isLessThan(3 * 24);
        assertThat(verdict(e, DB, WEB, 14095, UDP)).isEqualTo("allow");
        assertThat(verdict(e, DB, WEB, 14096, UDP)).isEqualTo("deny");
        assertThat(verdict(e, DB, WEB, 29999, SCTP)).isEqualTo("deny");
    }

    @Test
    void icmpsWithToPortsInOneRuleIsRefusedAsCiliumRefusesIt() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> policies(cnp("prod", """
                endpointSelector: {}
                ingress:
                - toPorts: [{ports: [{port: "80"}]}]
                  icmps: [{fields: [{type: 8}]}]
                """))).isInstanceOf(PolicyException.class).hasMessageContaining("spec.ingress[0].icmps: icmps may only be"
                + " given without toPorts");
    }

    @Test
    void anUnknownIcmpTypeNameIsRefusedWithASuggestion() {
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> policies(cnp("prod", """
                endpointSelector: {}
                ingress:
                - icmps: [{fields: [{type: EchoRequst}]}]
                """))).isInstanceOf(PolicyException.class).hasMessageContaining(
                "spec.ingress[0].icmps[0].fields[0].type: unknown ICMP type 'EchoRequst'")
                .hasMessageContaining("did you mean 'EchoRequest'?");
    }
}
