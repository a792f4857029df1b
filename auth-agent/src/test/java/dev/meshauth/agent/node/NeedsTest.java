package dev.meshauth.agent.node;

import dev.meshauth.agent.node.source.ClusterSnapshot;
import dev.meshauth.policy.PolicyException;
import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.endpoint.NodeInfo;
import dev.meshauth.policy.yaml.PolicyParser;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * What a view may cost: an evaluation over its budget, or more policy entries than the standalone
 * datapath's map holds, refuses the view with an error that says so and how to fix it; the view stays
 * the last good one and status can report why.
 */
class NeedsTest {
    private static final NodeInfo N1 = new NodeInfo("node-1", 1, "127.0.0.1");
    private final ExecutorService loop = Executors.newSingleThreadExecutor();

    @AfterEach
    void tearDown() {
        loop.shutdownNow();
    }

    /** {@code endpoints} endpoints on this node, every one a peer of every other on a 4,096-port range, any protocol. */
    private static ClusterSnapshot wide(int endpoints) throws PolicyException {
        List<Endpoint> eps = new ArrayList<>();
        for (int i = 0; i < endpoints; i++) {
            Map<String, String> labels = new HashMap<>(Map.of("app", "a" + i, "io.kubernetes.pod.namespace", "default"));
            eps.add(new Endpoint("ep" + i, "default", labels, 1000 + i, "node-1", "198.18.0." + (i + 1), Optional.empty()));
        }
        var policies = PolicyParser.parse("wide.yaml", """
                apiVersion: cilium.io/v2
                kind: CiliumNetworkPolicy
                metadata: {name: wide, namespace: default}
                spec:
                  endpointSelector: {}
                  ingress:
                  - fromEndpoints: [{}]
                    toPorts: [{ports: [{port: "10000", endPort: 14095, protocol: ANY}]}]
                """).policies();
        return new ClusterSnapshot(List.of(N1), eps, policies, Optional.empty());
    }

    @Test
    void anEvaluationOverItsBudgetIsRefusedSayingSo() throws Exception {
        AtomicLong ticker = new AtomicLong();
        // each reading of the ticker is two seconds later: the first check is over a one-second budget
        EvaluationBudget budget = new EvaluationBudget(Duration.ofSeconds(1), () -> ticker.getAndAdd(2_000_000_000L));
        Needs needs = new Needs("node-1", Optional.empty(), "test", Optional.empty(), budget);
        assertThatThrownBy(() -> needs.derive(wide(40))).isInstanceOf(PolicyException.class)
                .hasMessageContaining("policy evaluation stopped after").hasMessageContaining("over its budget of 1000 ms")
                .hasMessageContaining("raise --policy-evaluation-budget");
        Needs generous = new Needs("node-1", Optional.empty(), "test", Optional.empty(),
                new EvaluationBudget(Duration.ofHours(1), ticker::get));
        assertThat(generous.derive(wide(40)).engine().entries()).isNotEmpty();
    }

    @Test
    void aViewThatOverflowsThePolicyMapIsRefusedNamingTheFlag() throws Exception {
        Needs small = new Needs("node-1", Optional.empty(), "test", Optional.of(100),
                EvaluationBudget.defaults(System::nanoTime));
        assertThatThrownBy(() -> small.derive(wide(40))).isInstanceOf(PolicyException.class)
                .hasMessageContaining("need 43200 policy map entries, the policy map holds 100") // 40x40 pairs, 3 protocols, 9 prefixes
                .hasMessageContaining("--bpf-policy-map-max");
        Needs enough = new Needs("node-1", Optional.empty(), "test", Optional.of(43200),
                EvaluationBudget.defaults(System::nanoTime));
        assertThat(enough.derive(wide(40)).localIdentities()).hasSize(40);
    }

    @Test
    void theViewReportsWhyTheNewestWasRefusedUntilOneApplies() throws Exception {
        Needs small = new Needs("node-1", Optional.empty(), "test", Optional.of(300),
                EvaluationBudget.defaults(System::nanoTime));
        ClusterView view = new ClusterView(loop, small);
        view.install(wide(2));
        view.attach(s -> { });
        view.offer(wide(40));
        loop.submit(() -> { }).get(10, TimeUnit.SECONDS);
        assertThat(view.refusal()).hasValueSatisfying(r -> assertThat(r).contains("the policy map holds 300"));
        assertThat(view.current().cluster().endpoints()).as("the last good view stays").hasSize(2);
        view.offer(wide(3));
        loop.submit(() -> { }).get(10, TimeUnit.SECONDS);
        assertThat(view.refusal()).isEmpty();
        assertThat(view.current().cluster().endpoints()).hasSize(3);
    }
}
