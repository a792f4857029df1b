package dev.meshauth.policy;

import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.eval.PolicyEngine;
import dev.meshauth.policy.model.Policy;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;

import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Properties over generated policy sets (seeded, so a failure reproduces from its repetition number):
 * evaluation does not depend on policy order, and adding a deny never turns a drop into a pass.
 */
class PolicyPropertiesTest {
    private static final String[] APPS = {"db", "web", "job"};
    private static final String[] MODES = {"", "disabled", "required", "test-always-fail"};
    private static final int[] PORTS = {0, 53, 80, 443};

    private static String randomPolicy(Random r, int n, boolean deny) {
        StringBuilder sb = new StringBuilder("endpointSelector: {matchLabels: {app: " + APPS[r.nextInt(3)] + "}}\n");
        sb.append(deny ? "ingressDeny:\n" : "ingress:\n");
        int rules = 1 + r.nextInt(3);
        for (int i = 0; i < rules; i++) {
            sb.append("- fromEndpoints: [{matchLabels: {app: ").append(APPS[r.nextInt(3)]).append("}}]\n");
            int port = PORTS[r.nextInt(PORTS.length)];
            if (port != 0) {
                sb.append("  toPorts: [{ports: [{port: \"").append(port).append("\", protocol: ")
                        .append(r.nextBoolean() ? "TCP" : "ANY").append("}]}]\n");
            }
            String mode = MODES[r.nextInt(MODES.length)];
            if (!deny && !mode.isEmpty()) {
                sb.append("  authentication: {mode: ").append(mode).append("}\n");
            }
        }
        return PolicyEngineTest.cnp("prod", sb.toString()).replace("name: p,", "name: p" + n + ",");
    }

    private static List<Policy> randomSet(Random r, int count) throws PolicyException {
        List<Policy> out = new ArrayList<>();
        for (int i = 0; i < count; i++) {
            out.addAll(PolicyEngineTest.policies(randomPolicy(r, i, r.nextInt(4) == 0)));
        }
        return out;
    }

    private static List<String> allVerdicts(PolicyEngine e) {
        List<String> out = new ArrayList<>();
        for (Endpoint to : PolicyEngineTest.ALL) {
            for (Endpoint from : PolicyEngineTest.ALL) {
                for (int port : new int[] {53, 80, 443, 8080}) {
                    for (int proto : new int[] {6, 17}) {
                        out.add(to.name() + "<-" + from.name() + ":" + port + "/" + proto + "="
                                + PolicyEngineTest.verdict(e, to, from, port, proto));
                    }
                }
            }
        }
        return out;
    }

    @RepeatedTest(200)
    void evaluationDoesNotDependOnPolicyOrder(RepetitionInfo rep) throws Exception {
        Random r = new Random(rep.getCurrentRepetition());
        List<Policy> set = randomSet(r, 1 + r.nextInt(5));
        List<Policy> shuffled = new ArrayList<>(set);
        Collections.shuffle(shuffled, r);
        PolicyEngine a = PolicyEngine.evaluate(set, PolicyEngineTest.ALL);
        PolicyEngine b = PolicyEngine.evaluate(shuffled, PolicyEngineTest.ALL);
        assertThat(b.entries()).isEqualTo(a.entries());
        assertThat(allVerdicts(b)).isEqualTo(allVerdicts(a));
    }

    @RepeatedTest(100)
    void evaluatingSomeIdentitiesEqualsTheFullEvaluationRestrictedToThem(RepetitionInfo rep) throws Exception {
        Random r = new Random(rep.getCurrentRepetition());
        List<Policy> set = randomSet(r, 1 + r.nextInt(5));
        java.util.Set<Long> locals = new java.util.HashSet<>();
        for (Endpoint e : PolicyEngineTest.ALL) {
            if (r.nextBoolean()) {
                locals.add(e.identity());
            }
        }
        PolicyEngine full = PolicyEngine.evaluate(set, PolicyEngineTest.ALL);
        PolicyEngine some = PolicyEngine.evaluate(set, PolicyEngineTest.ALL, dev.meshauth.policy.eval.Budget.UNLIMITED,
                locals::contains);
        var expected = new java.util.HashMap<>(full.entries());
        expected.keySet().removeIf(k -> !locals.contains(k.local()));
        assertThat(some.entries()).isEqualTo(expected);
        for (var dir : dev.meshauth.policy.model.Direction.values()) {
            assertThat(some.enforced(dir)).isEqualTo(full.enforced(dir).stream().filter(locals::contains)
                    .collect(java.util.stream.Collectors.toSet()));
        }
    }

    @RepeatedTest(200)
    void addingADenyNeverAddsAnAllow(RepetitionInfo rep) throws Exception {
        Random r = new Random(10_000 + rep.getCurrentRepetition());
        List<Policy> set = randomSet(r, 1 + r.nextInt(5));
        List<Policy> withDeny = new ArrayList<>(set);
        withDeny.addAll(PolicyEngineTest.policies(randomPolicy(r, 99, true)));
        List<String> before = allVerdicts(PolicyEngine.evaluate(set, PolicyEngineTest.ALL));
        List<String> after = allVerdicts(PolicyEngine.evaluate(withDeny, PolicyEngineTest.ALL));
        for (int i = 0; i < before.size(); i++) {
            boolean passedAfter = !after.get(i).endsWith("=deny");
            boolean passedBefore = !before.get(i).endsWith("=deny");
            if (passedAfter) {
                assertThat(passedBefore).as("%s passes only after a deny was added (before: %s)", after.get(i), before.get(i))
                        .isTrue();
            }
        }
    }
}
