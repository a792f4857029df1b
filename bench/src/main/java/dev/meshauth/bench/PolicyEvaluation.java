package dev.meshauth.bench;

import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.endpoint.NodeInfo;
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
 * Full evaluation of 1,000 policies over 10,000 endpoints (1,000 apps in 10 namespaces, 10 replicas
 * each, on 50 nodes): parse, evaluate, and derive the auth keys every node needs. Prints min and median
 * of 7 runs after 3 warm-ups.
 *
 * <p>Run: {@code java -cp bench/target/benchmarks.jar dev.meshauth.bench.PolicyEvaluation}.
 */
public final class PolicyEvaluation {
    private PolicyEvaluation() {
    }

    public static void main(String[] args) throws Exception {
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
                int from = (p % 10) + 10 * r.nextInt(100); // same namespace
                yaml.append("  - fromEndpoints: [{matchLabels: {app: app").append(from).append("}}]\n")
                        .append("    toPorts: [{ports: [{port: \"").append(k == 0 ? 80 : 8000 + k).append("\", protocol: TCP}]}]\n");
                if (r.nextBoolean()) {
                    yaml.append("    authentication: {mode: required}\n");
                }
            }
        }
        String text = yaml.toString();
        double[] parse = new double[7];
        double[] eval = new double[7];
        double[] auth = new double[7];
        int keys = 0;
        for (int i = -3; i < 7; i++) {
            long t0 = System.nanoTime();
            List<Policy> policies = PolicyParser.parse("bench.yaml", text).policies();
            long t1 = System.nanoTime();
            PolicyEngine engine = PolicyEngine.evaluate(policies, endpoints);
            long t2 = System.nanoTime();
            keys = engine.requiredAuth(endpoints, nodes).size();
            long t3 = System.nanoTime();
            if (i >= 0) {
                parse[i] = (t1 - t0) / 1e6;
                eval[i] = (t2 - t1) / 1e6;
                auth[i] = (t3 - t2) / 1e6;
            }
        }
        // Incremental: one policy changed, one identity added, over the same 10,000-endpoint state.
        List<Policy> policies = PolicyParser.parse("bench.yaml", text).policies();
        dev.meshauth.policy.eval.IncrementalEvaluator inc = new dev.meshauth.policy.eval.IncrementalEvaluator();
        endpoints.forEach(e -> inc.putIdentity(e.identity(), e.labels()));
        for (int i = 0; i < policies.size(); i++) {
            inc.putPolicies("p" + i, List.of(policies.get(i)));
        }
        double[] onePolicy = new double[200];
        double[] oneIdentity = new double[200];
        for (int i = -50; i < 200; i++) {
            int k = Math.floorMod(i * 7919, policies.size());
            long t0 = System.nanoTime();
            inc.putPolicies("p" + k, List.of(policies.get(Math.floorMod(k + 1, policies.size()))));
            long t1 = System.nanoTime();
            inc.putIdentity(100_000 + i + 50, Map.of("app", "app" + k, "io.kubernetes.pod.namespace", "ns" + k % 10));
            long t2 = System.nanoTime();
            if (i >= 0) {
                onePolicy[i] = (t1 - t0) / 1e3;
                oneIdentity[i] = (t2 - t1) / 1e3;
            }
        }
        Arrays.sort(onePolicy);
        Arrays.sort(oneIdentity);
        System.out.printf("incremental over the same state: one policy changed p50 %.0f us p99 %.0f us;"
                + " one identity added p50 %.0f us p99 %.0f us%n", onePolicy[100], onePolicy[198], oneIdentity[100],
                oneIdentity[198]);
        Arrays.sort(parse);
        Arrays.sort(eval);
        Arrays.sort(auth);
        System.out.printf("1000 policies, 10000 endpoints (1000 identities, 50 nodes): parse min %.0f ms median %.0f ms;"
                + " evaluate min %.0f ms median %.0f ms; required auth keys (%d) min %.0f ms median %.0f ms%n",
                parse[0], parse[3], eval[0], eval[3], keys, auth[0], auth[3]);
    }
}
