package dev.meshauth.agent.cli;

import com.fasterxml.jackson.databind.JsonNode;
import com.fasterxml.jackson.databind.ObjectMapper;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code meshauth policy check|explain} as a user runs them. */
class PolicyCliTest {
    private static final String POLICY = """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: rule1}
            spec:
              endpointSelector: {matchLabels: {org: empire, class: deathstar}}
              ingress:
              - fromEndpoints: [{matchLabels: {org: empire}}]
                authentication: {mode: required}
                toPorts: [{ports: [{port: "80", protocol: TCP}]}]
            """;
    private static final String ENDPOINTS = """
            nodes:
              - {name: node-1, id: 1, internalIP: 127.0.0.1}
              - {name: node-2, id: 2, internalIP: 127.0.0.2}
            endpoints:
              - {name: deathstar, node: node-1, ipv4: 198.18.1.10, labels: {org: empire, class: deathstar}}
              - {name: tiefighter, node: node-2, ipv4: 198.18.2.20, labels: {org: empire, class: tiefighter}}
              - {name: xwing, node: node-2, ipv4: 198.18.2.30, labels: {org: alliance, class: xwing}}
            """;

    @Test
    void checkAcceptsAGoodFileAndReportsABadOneWithItsLocation(@TempDir Path dir) throws Exception {
        Path good = Files.writeString(dir.resolve("good.yaml"), POLICY);
        Path bad = Files.writeString(dir.resolve("bad.yaml"), POLICY.replace("authentication", "authentcation"));
        CliRun ok = CliRun.of("policy", "check", good.toString());
        assertThat(ok.code()).isZero();
        assertThat(ok.out()).isEqualTo("OK: 1 policies in 1 files\n");
        CliRun fail = CliRun.of("policy", "check", good.toString(), bad.toString());
        assertThat(fail.code()).isEqualTo(ExitCodes.FAILURE);
        assertThat(fail.err()).contains(bad + ":8:5: spec.ingress[0]: unknown field 'authentcation' (did you mean"
                + " 'authentication'?)").contains("1 problem(s); nothing was applied");
    }

    @Test
    void explainListsTheAuthenticatedPairAsJson(@TempDir Path dir) throws Exception {
        Path p = Files.writeString(dir.resolve("sw.yaml"), POLICY);
        Path e = Files.writeString(dir.resolve("endpoints.yaml"), ENDPOINTS);
        CliRun r = CliRun.of("policy", "explain", "--policies", p.toString(), "--endpoints", e.toString(), "-o", "json");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode rows = new ObjectMapper().readTree(r.out());
        assertThat(rows).hasSize(1);
        JsonNode row = rows.get(0);
        assertThat(row.get("from").asText()).isEqualTo("tiefighter");
        assertThat(row.get("to").asText()).isEqualTo("deathstar");
        assertThat(row.get("direction").asText()).isEqualTo("ingress");
        assertThat(row.get("port").asInt()).isEqualTo(80);
        assertThat(row.get("protocol").asText()).isEqualTo("TCP");
        assertThat(row.get("authType").asText()).isEqualTo("spire");
        assertThat(row.get("policy").asText()).isEqualTo("default/rule1 ingress[0]");
    }

    @Test
    void explainWithAllShowsTheXwingDeniedAndReadsAPolicyDirectory(@TempDir Path dir) throws Exception {
        Path policies = Files.createDirectory(dir.resolve("policies"));
        Files.writeString(policies.resolve("sw.yaml"), POLICY);
        Path e = Files.writeString(dir.resolve("endpoints.yaml"), ENDPOINTS);
        CliRun r = CliRun.of("policy", "explain", "--all", "--policies", policies.toString(), "--endpoints", e.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out().lines()).anySatisfy(l -> assertThat(l.split("\\s+"))
                .startsWith("xwing", "deathstar", "ingress", "80", "TCP", "deny"));
    }
}
