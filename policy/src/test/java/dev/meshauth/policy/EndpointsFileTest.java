package dev.meshauth.policy;

import dev.meshauth.policy.endpoint.EndpointsFile;
import dev.meshauth.policy.endpoint.IdentityAllocator;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.nio.file.Path;
import java.util.Optional;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The standalone endpoints file: errors with file and line, and stable identities. */
class EndpointsFileTest {
    private static final String NODES = "nodes:\n  - {name: n1, id: 1, internalIP: 127.0.0.1}\nendpoints:\n";

    @ParameterizedTest(name = "{0}")
    @CsvSource(delimiter = '|', value = {
        "unknown key | '  - {name: a, node: n1, ipv4: 198.18.0.1, lables: {x: y}}' | e.yaml:4:43: endpoints[0]: unknown field 'lables' (did you mean 'labels'?)",
        "undeclared node | '  - {name: a, node: n9, ipv4: 198.18.0.1}' | endpoints[0].node: node 'n9' is not declared under nodes",
        "reserved identity | '  - {name: a, node: n1, ipv4: 198.18.0.1, identity: 7}' | identity 7 is reserved (below 256)",
        "bad address | '  - {name: a, node: n1, ipv4: 198.18.0.300}' | not an IPv4 address: '198.18.0.300'",
        "missing name | '  - {node: n1, ipv4: 198.18.0.1}' | endpoints[0].name: required",
    })
    void badEndpointsAreRefused(String name, String line, String expected) {
        assertThatThrownBy(() -> EndpointsFile.parse("e.yaml", NODES + line + "\n", new IdentityAllocator(Optional.empty())))
                .isInstanceOf(PolicyException.class).hasMessageContaining(expected);
    }

    @Test
    void duplicatesAreRefused() {
        String yaml = """
                nodes:
                  - {name: n1, id: 1, internalIP: 127.0.0.1}
                  - {name: n1, id: 1, internalIP: 127.0.0.2}
                endpoints:
                  - {name: a, node: n1, ipv4: 198.18.0.1, identity: 300, labels: {app: a}}
                  - {name: a, node: n1, ipv4: 198.18.0.2, identity: 300, labels: {app: b}}
                """;
        assertThatThrownBy(() -> EndpointsFile.parse("e.yaml", yaml, new IdentityAllocator(Optional.empty())))
                .isInstanceOfSatisfying(PolicyException.class, e -> assertThat(e.getMessage())
                        .contains("duplicate node name 'n1'").contains("duplicate node id 1")
                        .contains("duplicate endpoint 'default/a'").contains("identity 300 is already used for other labels"));
    }

    @Test
    void twoEndpointsOrNodesOnOneAddressAreRefusedWithTheirLines() {
        String yaml = """
                nodes:
                  - {name: n1, id: 1, internalIP: 127.0.0.1}
                  - {name: n2, id: 2, internalIP: 127.0.0.1}
                endpoints:
                  - {name: a, node: n1, ipv4: 198.18.0.1, ipv6: "2001:2::1", labels: {app: a}}
                  - {name: b, node: n2, ipv4: 198.18.0.1, labels: {app: b}}
                  - {name: c, node: n2, ipv4: 198.18.0.3, ipv6: "2001:2::1", labels: {app: c}}
                """;
        assertThatThrownBy(() -> EndpointsFile.parse("e.yaml", yaml, new IdentityAllocator(Optional.empty())))
                .isInstanceOfSatisfying(PolicyException.class, e -> assertThat(e.getMessage())
                        .contains("e.yaml:3:").contains("internalIP 127.0.0.1 is already node 'n1'")
                        .contains("e.yaml:6:").contains("ipv4 198.18.0.1 is already endpoint 'default/a'")
                        .contains("e.yaml:7:").contains("ipv6 2001:2::1 is already endpoint 'default/a'"));
    }

    @Test
    void identitiesAreStableAcrossRestartsAndSharedByEqualLabels(@TempDir Path dir) throws Exception {
        String yaml = NODES + """
                  - {name: a, node: n1, ipv4: 198.18.0.1, labels: {app: web}}
                  - {name: b, node: n1, ipv4: 198.18.0.2, labels: {app: web}}
                  - {name: c, node: n1, ipv4: 198.18.0.3, labels: {app: db}}
                """;
        Path file = dir.resolve("identities");
        var first = EndpointsFile.parse("e.yaml", yaml, new IdentityAllocator(Optional.of(file)));
        long a = first.endpoint("a").orElseThrow().identity();
        assertThat(first.endpoint("b").orElseThrow().identity()).isEqualTo(a);
        assertThat(first.endpoint("c").orElseThrow().identity()).isNotEqualTo(a).isGreaterThanOrEqualTo(256);
        // Another process, endpoints listed in another order: the same identities.
        String reordered = NODES + """
                  - {name: c, node: n1, ipv4: 198.18.0.3, labels: {app: db}}
                  - {name: a, node: n1, ipv4: 198.18.0.1, labels: {app: web}}
                """;
        var second = EndpointsFile.parse("e.yaml", reordered, new IdentityAllocator(Optional.of(file)));
        assertThat(second.endpoint("a").orElseThrow().identity()).isEqualTo(a);
        assertThat(second.endpoint("c").orElseThrow().identity()).isEqualTo(first.endpoint("c").orElseThrow().identity());
    }
}
