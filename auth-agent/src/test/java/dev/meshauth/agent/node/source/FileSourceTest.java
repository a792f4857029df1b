package dev.meshauth.agent.node.source;

import dev.meshauth.policy.PolicyException;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The standalone source: files watched; a bad edit reported and the last good view kept. */
class FileSourceTest {
    private static final String ENDPOINTS = """
            nodes:
              - {name: node-1, id: 1, internalIP: 127.0.0.1}
            endpoints:
              - {name: a, node: node-1, ipv4: 198.18.1.10, identity: 1001, labels: {app: a}}
            """;
    private static final String POLICY = """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: p%d}
            spec:
              endpointSelector: {matchLabels: {app: a}}
              ingress:
              - authentication: {mode: required}
            """;

    @Test
    void editsArriveAndABadEditKeepsTheLastGoodView(@TempDir Path dir) throws Exception {
        Path endpoints = Files.writeString(dir.resolve("endpoints.yaml"), ENDPOINTS);
        Path policies = Files.createDirectory(dir.resolve("policies"));
        Files.writeString(policies.resolve("one.yaml"), POLICY.formatted(1));
        LinkedBlockingQueue<ClusterSnapshot> changes = new LinkedBlockingQueue<>();
        try (FileSource s = new FileSource(endpoints, List.of(policies), Optional.empty(), Duration.ofMillis(50))) {
            ClusterSnapshot first = s.start(changes::add);
            assertThat(first.policies()).hasSize(1);
            assertThat(first.identities()).contains(java.util.Set.of(1001L));

            Files.writeString(policies.resolve("two.yml"), POLICY.formatted(2)); // a new file in the directory
            ClusterSnapshot second = changes.poll(5, TimeUnit.SECONDS);
            assertThat(second).isNotNull();
            assertThat(second.policies()).hasSize(2);

            Files.writeString(policies.resolve("two.yml"), POLICY.formatted(2).replace("required", "requird"));
            eventually("the bad edit reported", Duration.ofSeconds(5), () -> !s.problems().isEmpty());
            assertThat(s.problems().values()).singleElement().asString().contains("did you mean 'required'");
            assertThat(changes).as("a bad edit is not applied").isEmpty();

            Files.delete(policies.resolve("two.yml"));
            ClusterSnapshot third = changes.poll(5, TimeUnit.SECONDS);
            assertThat(third).isNotNull();
            assertThat(third.policies()).hasSize(1);
            assertThat(s.problems()).as("a good edit clears the problem").isEmpty();
        }
    }

    @Test
    void aBrokenPolicyFileNeverHoldsBackEditsOfTheOtherFiles(@TempDir Path dir) throws Exception {
        Path endpoints = Files.writeString(dir.resolve("endpoints.yaml"), ENDPOINTS
                + "  - {name: b, node: node-1, ipv4: 198.18.1.11, identity: 1002, labels: {app: b}}\n");
        Path policies = Files.createDirectory(dir.resolve("policies"));
        Files.writeString(policies.resolve("one.yaml"), POLICY.formatted(1));
        Path two = Files.writeString(policies.resolve("two.yaml"), POLICY.formatted(2));
        LinkedBlockingQueue<ClusterSnapshot> changes = new LinkedBlockingQueue<>();
        try (FileSource s = new FileSource(endpoints, List.of(policies), Optional.empty(), Duration.ofMillis(50))) {
            assertThat(s.start(changes::add).endpoints()).hasSize(2);
            // One edit breaks two.yaml; another removes endpoint b (whose entries must be revoked).
            Files.writeString(two, POLICY.formatted(2).replace("required", "requird"));
            Files.writeString(endpoints, ENDPOINTS);
            ClusterSnapshot next = changes.poll(5, TimeUnit.SECONDS);
            assertThat(next).as("the endpoint edit applies").isNotNull();
            assertThat(next.endpoints()).extracting(e -> e.name()).containsExactly("a");
            assertThat(next.policies()).as("two.yaml keeps its last good policy").hasSize(2);
            assertThat(s.problems()).containsOnlyKeys(two.toString());
            assertThat(s.problems().get(two.toString())).contains("did you mean 'required'");

            Files.writeString(two, POLICY.formatted(2)); // fixed: the problem goes; the view is the same
            eventually("the problem gone (the file source polls on real time)", Duration.ofSeconds(5),
                    () -> s.problems().isEmpty());
        }
    }

    @Test
    void aBadFirstViewStartsNothing(@TempDir Path dir) throws Exception {
        Path endpoints = Files.writeString(dir.resolve("endpoints.yaml"), "nodes: [oops\n");
        try (FileSource s = new FileSource(endpoints, List.of(), Optional.empty(), Duration.ofMillis(50))) {
            assertThatThrownBy(() -> s.start(x -> { })).isInstanceOf(PolicyException.class)
                    .hasMessageContaining("endpoints.yaml");
        }
    }
}
