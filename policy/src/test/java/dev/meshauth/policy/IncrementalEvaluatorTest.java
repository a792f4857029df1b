package dev.meshauth.policy;

import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.eval.IncrementalEvaluator;
import dev.meshauth.policy.eval.PolicyEngine;
import dev.meshauth.policy.model.Direction;
import dev.meshauth.policy.model.Policy;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;
import org.junit.jupiter.api.Test;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;

/** Incremental evaluation equals a full evaluation after any sequence of changes, and touches little. */
class IncrementalEvaluatorTest {
    private static final String[] APPS = {"db", "web", "job", "api"};

    private static Endpoint endpoint(long id, String app) {
        return PolicyEngineTest.ep("e" + id, "prod", id, "node-1", "app", app);
    }

    private static List<Policy> randomPolicy(Random r, String name) throws PolicyException {
        boolean deny = r.nextInt(4) == 0;
        String yaml = "endpointSelector: {matchLabels: {app: " + APPS[r.nextInt(APPS.length)] + "}}\n"
                + (deny ? "ingressDeny:\n" : "ingress:\n")
                + "- fromEndpoints: [{matchLabels: {app: " + APPS[r.nextInt(APPS.length)] + "}}]\n"
                + (r.nextBoolean() ? "  toPorts: [{ports: [{port: \"" + (80 + r.nextInt(3)) + "\", protocol: TCP}]}]\n" : "")
                + (!deny && r.nextInt(3) == 0 ? "  authentication: {mode: required}\n" : "");
        return PolicyEngineTest.policies(PolicyEngineTest.cnp("prod", yaml).replace("name: p,", "name: " + name + ","));
    }

    @RepeatedTest(100)
    void equalsAFullEvaluationAfterEveryChange(RepetitionInfo rep) throws Exception {
        Random r = new Random(rep.getCurrentRepetition());
        IncrementalEvaluator inc = new IncrementalEvaluator();
        Map<String, List<Policy>> policies = new LinkedHashMap<>();
        Map<Long, Endpoint> endpoints = new HashMap<>();
        for (int step = 0; step < 30; step++) {
            int op = r.nextInt(4);
            if (op == 0) {
                String key = "k" + r.nextInt(6);
                List<Policy> ps = randomPolicy(r, key);
                policies.put(key, ps);
                inc.putPolicies(key, ps);
            } else if (op == 1 && !policies.isEmpty()) {
                String key = new ArrayList<>(policies.keySet()).get(r.nextInt(policies.size()));
                policies.remove(key);
                inc.removePolicies(key);
            } else if (op == 2) {
                long id = 256 + r.nextInt(8);
                Endpoint e = endpoint(id, APPS[r.nextInt(APPS.length)]);
                endpoints.put(id, e);
                inc.putIdentity(id, e.labels());
            } else if (!endpoints.isEmpty()) {
                long id = new ArrayList<>(endpoints.keySet()).get(r.nextInt(endpoints.size()));
                endpoints.remove(id);
                inc.removeIdentity(id);
            }
            List<Policy> all = new ArrayList<>();
            policies.values().forEach(all::addAll);
            PolicyEngine full = PolicyEngine.evaluate(all, new ArrayList<>(endpoints.values()));
            PolicyEngine snap = inc.snapshot();
            assertThat(snap.entries()).as("step %d", step).isEqualTo(full.entries());
            for (Direction d : Direction.values()) {
                assertThat(snap.enforced(d)).as("step %d %s", step, d).isEqualTo(full.enforced(d));
            }
        }
    }

    @Test
    void aPolicyChangeTouchesOnlyTheIdentitiesItSelects() throws Exception {
        IncrementalEvaluator inc = new IncrementalEvaluator();
        for (int i = 0; i < 500; i++) {
            inc.putIdentity(256 + i, PolicyEngineTest.ep("a" + i, "prod", 256 + i, "n", "app", "app" + i).labels());
        }
        for (int i = 0; i < 500; i++) {
            inc.putPolicies("p" + i, PolicyEngineTest.policies(PolicyEngineTest.cnp("prod",
                    "endpointSelector: {matchLabels: {app: app" + i + "}}\ningress:\n- fromEndpoints: [{matchLabels: {app: app"
                            + ((i + 1) % 500) + "}}]\n")));
        }
        inc.putPolicies("p7", PolicyEngineTest.policies(PolicyEngineTest.cnp("prod",
                "endpointSelector: {matchLabels: {app: app7}}\ningress:\n- fromEndpoints: [{}]\n  authentication: {mode: required}\n")));
        assertThat(inc.lastTouched()).isEqualTo(1);
        inc.putIdentity(9999, PolicyEngineTest.ep("new", "prod", 9999, "n", "app", "app3").labels());
        // app3 is the subject of p3 (identities 259 and the new 9999) and the peer of p2 (identity 258);
        // p7 admits every prod endpoint ([{}]), so its subject (263) is recomputed too.
        assertThat(inc.lastTouched()).isEqualTo(4);
        assertThat(inc.snapshot().lookup(7 + 256, 9999, 80, 6, Direction.INGRESS)).hasValueSatisfying(v ->
                assertThat(v.authType().toString()).isEqualTo("spire"));
    }
}
