package dev.meshauth.bench;

import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.endpoint.NodeInfo;
import dev.meshauth.policy.eval.Budget;
import dev.meshauth.policy.eval.EvaluationOverrun;
import dev.meshauth.policy.eval.PolicyEngine;
import dev.meshauth.policy.model.Policy;
import dev.meshauth.policy.yaml.PolicyParser;

import java.util.ArrayList;
import java.util.Arrays;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Random;

/**
 * Policy evaluation with port ranges.
 * <ol>
 *   <li>The policy that stalled agents for more than 20 minutes (three 4,096-port ranges, protocol ANY,
 *       from every endpoint, selecting every endpoint) over 3, 100 and 1,000 endpoints on two nodes, evaluated
 *       as an agent does (its node's identities, every endpoint a peer, a budget of 4M entries: 1,000
 *       endpoints need 39M, and are refused); beside it, in the same run, the anchor: the engine before ranges
 *       were prefixes (one key per port and protocol, every entry compared with every other), on the same
 *       policy with smaller ranges, to show its growth.</li>
 *   <li>1,000 policies with port ranges over 10,000 endpoints (PolicyEvaluation's cluster, each rule's port
 *       a range of 100 to 5,000 ports, protocol TCP or ANY).</li>
 * </ol>
 * Min and median of 5 runs after 2 warm-ups.
 *
 * <p>Run: {@code java -cp bench/target/benchmarks.jar dev.meshauth.bench.PortRangeEvaluation}.
 */
public final class PortRangeEvaluation {
    private static final String STALLING = """
            apiVersion: cilium.io/v2
            kind: CiliumNetworkPolicy
            metadata: {name: ranges, namespace: default}
            spec:
              endpointSelector: {}
              ingress:
              - fromEndpoints: [{}]
                toPorts:
                - ports:
                  - {port: "10000", endPort: %d, protocol: ANY}
                  - {port: "20000", endPort: %d, protocol: ANY}
                  - {port: "30000", endPort: %d, protocol: ANY}
            """;

    private PortRangeEvaluation() {
    }

    public static void main(String[] args) throws Exception {
        for (int n : new int[] {3, 100, 1000}) {
            List<Endpoint> eps = endpoints(n);
            List<Policy> p = PolicyParser.parse("stall.yaml", STALLING.formatted(14095, 24095, 34095)).policies();
            java.util.Set<Long> node1 = new java.util.HashSet<>();
            eps.stream().filter(e -> e.node().equals("node-1")).forEach(e -> node1.add(e.identity()));
            String[] outcome = new String[1];
            double[] ms = time(() -> {
                try {
                    outcome[0] = String.format("%,d entries", PolicyEngine.evaluate(p, eps, capped(), node1::contains)
                            .entries().size());
                } catch (EvaluationOverrun e) {
                    outcome[0] = "refused: over 4,000,000 entries";
                }
            });
            System.out.printf("three 4,096-port ranges, ANY, every endpoint to every endpoint, %4d endpoints, node-1's"
                    + " %d identities: %s, min %.1f ms, median %.1f ms%n", n, node1.size(), outcome[0], ms[0], ms[ms.length / 2]);
        }
        for (int ports : new int[] {16, 64, 256}) {
            List<Endpoint> eps = endpoints(3);
            List<Policy> p = PolicyParser.parse("stall.yaml", STALLING.formatted(9999 + ports, 19999 + ports, 29999 + ports))
                    .policies();
            int[] entries = new int[1];
            double[] ms = time(() -> entries[0] = PerPortAnchor.evaluate(p, eps));
            double[] now = time(() -> PolicyEngine.evaluate(p, eps));
            System.out.printf("anchor, one key per port and all-pairs propagation, three %3d-port ranges, 3 endpoints:"
                    + " %,7d entries, min %.1f ms, median %.1f ms (prefixes: median %.2f ms)%n", ports, entries[0], ms[0],
                    ms[ms.length / 2], now[now.length / 2]);
        }
        cluster();
    }

    /** The agent's entry budget (EvaluationBudget.MAX_ENTRIES), without its clock. */
    private static Budget capped() {
        long[] units = new long[1];
        return n -> {
            units[0] += n;
            if (units[0] > 4_000_000) {
                throw new EvaluationOverrun("over 4,000,000 entries");
            }
        };
    }

    private static List<Endpoint> endpoints(int n) {
        List<Endpoint> out = new ArrayList<>();
        for (int i = 0; i < n; i++) {
            Map<String, String> labels = Map.of("app", "a" + i, "io.kubernetes.pod.namespace", "default");
            out.add(new Endpoint("ep" + i, "default", labels, 256 + i, "node-" + (1 + i % 2),
                    "198.18." + (i / 250) + "." + (i % 250 + 1), Optional.empty()));
        }
        return out;
    }

    private static void cluster() throws Exception {
        Random r = new Random(1);
        List<NodeInfo> nodes = new ArrayList<>();
        for (int n = 1; n <= 50; n++) {
            nodes.add(new NodeInfo("node-" + n, n, "127.0.0." + n));
        }
        List<Endpoint> endpoints = new ArrayList<>();
        for (int app = 0; app < 1000; app++) {
            String ns = "ns" + app % 10;
            Map<String, String> labels = new HashMap<>(Map.of("app", "app" + app, "tier", "t" + app % 7,
                    "io.kubernetes.pod.namespace", ns));
            for (int rep = 0; rep < 10; rep++) {
                endpoints.add(new Endpoint("app" + app + "-" + rep, ns, labels, 256 + app, "node-" + (1 + r.nextInt(50)),
                        "198.18." + (endpoints.size() / 250) + "." + (endpoints.size() % 250 + 1), Optional.empty()));
            }
        }
        StringBuilder yaml = new StringBuilder();
        for (int p = 0; p < 1000; p++) {
            String ns = "ns" + p % 10;
            yaml.append("---\napiVersion: cilium.io/v2\nkind: CiliumNetworkPolicy\nmetadata: {name: p").append(p)
                    .append(", namespace: ").append(ns).append("}\nspec:\n  endpointSelector: {matchLabels: {app: app")
                    .append(p).append("}}\n  ingress:\n");
            for (int k = 0; k < 3; k++) {
                int from = (p % 10) + 10 * r.nextInt(100);
                int start = 1024 + r.nextInt(50_000);
                int width = 100 + r.nextInt(4_900);
                yaml.append("  - fromEndpoints: [{matchLabels: {app: app").append(from).append("}}]\n")
                        .append("    toPorts: [{ports: [{port: \"").append(start).append("\", endPort: ").append(start + width)
                        .append(", protocol: ").append(r.nextBoolean() ? "TCP" : "ANY").append("}]}]\n");
                if (r.nextBoolean()) {
                    yaml.append("    authentication: {mode: required}\n");
                }
            }
        }
        List<Policy> policies = PolicyParser.parse("bench.yaml", yaml.toString()).policies();
        int[] entries = new int[1];
        int[] keys = new int[1];
        double[] eval = time(() -> entries[0] = PolicyEngine.evaluate(policies, endpoints).entries().size());
        PolicyEngine e = PolicyEngine.evaluate(policies, endpoints);
        double[] auth = time(() -> keys[0] = e.requiredAuth(endpoints, nodes).size());
        System.out.printf("1000 policies with port ranges (100-5,000 ports, TCP or ANY), 10000 endpoints, every identity:"
                + " %,d entries, evaluate min %.0f ms median %.0f ms; required auth keys (%,d) min %.0f ms median %.0f ms%n",
                entries[0], eval[0], eval[eval.length / 2], keys[0], auth[0], auth[auth.length / 2]);
        java.util.Set<Long> node1 = new java.util.HashSet<>();
        endpoints.stream().filter(x -> x.node().equals("node-1")).forEach(x -> node1.add(x.identity()));
        int[] local = new int[1];
        double[] one = time(() -> local[0] = PolicyEngine.evaluate(policies, endpoints, Budget.UNLIMITED, node1::contains)
                .entries().size());
        System.out.printf("  the same, as node-1's agent evaluates it (%d identities with an endpoint there): %,d entries,"
                + " min %.0f ms median %.0f ms%n", node1.size(), local[0], one[0], one[one.length / 2]);
    }

    private interface Work {
        void run() throws Exception;
    }

    private static double[] time(Work w) throws Exception {
        double[] ms = new double[5];
        for (int i = -2; i < ms.length; i++) {
            long t0 = System.nanoTime();
            w.run();
            long t1 = System.nanoTime();
            if (i >= 0) {
                ms[i] = (t1 - t0) / 1e6;
            }
        }
        Arrays.sort(ms);
        return ms;
    }
}
