package dev.meshauth.policy.eval;

import dev.meshauth.policy.model.EndpointSelector;
import dev.meshauth.policy.model.Policy;
import dev.meshauth.policy.model.Rule;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Keeps the evaluation current as policies and identities change, recomputing only what a change
 * touches: a policy change recomputes that policy's contribution and the local identities it selects
 * (before or after); an identity change recomputes the policies whose subject or peer selectors match
 * its labels (before or after). Each recomputation merges and propagates the entries of the touched
 * local identities only. {@link #snapshot()} equals a full {@link PolicyEngine#evaluate} (tested).
 *
 * <p>Not thread-safe: one owner applies changes in order (the agent's policy loop). Every change charges
 * the evaluator's {@link Budget}; after an {@link EvaluationOverrun} the evaluator is half-updated and must
 * be discarded.
 */
public final class IncrementalEvaluator {
    private final Budget budget;
    private final java.util.function.LongPredicate locals;
    private final Map<Long, Map<String, String>> identities = new HashMap<>();
    private final Map<String, List<Policy>> policies = new HashMap<>();
    private final Map<String, List<PolicyEngine.Contribution>> contributions = new HashMap<>();
    private final Map<Long, Set<String>> contributorsByLocal = new HashMap<>();
    private final Map<Long, Map<EntryKey, EntryValue>> entriesByLocal = new HashMap<>();
    private final Map<Long, Integer> ingressRefs = new HashMap<>();
    private final Map<Long, Integer> egressRefs = new HashMap<>();
    private int lastTouched;

    /** An evaluator without a budget. */
    public IncrementalEvaluator() {
        this(Budget.UNLIMITED);
    }

    /** An evaluator charging {@code budget} for every change. */
    public IncrementalEvaluator(Budget budget) {
        this(budget, id -> true);
    }

    /** An evaluator charging {@code budget}, computing entries only for the identities {@code locals} accepts. */
    public IncrementalEvaluator(Budget budget, java.util.function.LongPredicate locals) {
        this.budget = budget;
        this.locals = locals;
    }

    /** Sets the policies known under {@code key} (a file, or a Kubernetes object), replacing earlier ones. */
    public void putPolicies(String key, List<Policy> ps) {
        Set<Long> touched = new HashSet<>(unindex(key));
        policies.put(key, List.copyOf(ps));
        touched.addAll(index(key));
        recompute(touched);
    }

    /** Forgets the policies under {@code key}. */
    public void removePolicies(String key) {
        Set<Long> touched = unindex(key);
        policies.remove(key);
        recompute(touched);
    }

    /** Adds or changes an identity's labels. */
    public void putIdentity(long id, Map<String, String> labels) {
        Map<String, String> old = identities.put(id, Map.copyOf(labels));
        identityChanged(old, labels);
    }

    /** Removes an identity. */
    public void removeIdentity(long id) {
        Map<String, String> old = identities.remove(id);
        if (old != null) {
            identityChanged(old, null);
        }
    }

    private void identityChanged(Map<String, String> before, Map<String, String> after) {
        Set<String> affected = new HashSet<>();
        for (Map.Entry<String, List<Policy>> e : policies.entrySet()) {
            for (Policy p : e.getValue()) {
                if (mentions(p, before) || mentions(p, after)) {
                    affected.add(e.getKey());
                }
            }
        }
        Set<Long> touched = new HashSet<>();
        for (String key : affected) {
            touched.addAll(unindex(key));
            touched.addAll(index(key));
        }
        recompute(touched);
    }

    private static boolean mentions(Policy p, Map<String, String> labels) {
        if (labels == null) {
            return false;
        }
        if (p.subject().matches(labels)) {
            return true;
        }
        for (Rule r : p.rules()) {
            if (r.peers().allEndpoints()) {
                return true;
            }
            for (EndpointSelector s : r.peers().endpoints()) {
                if (s.matches(labels)) {
                    return true;
                }
            }
        }
        return false;
    }

    /** Computes and indexes the contributions under {@code key}; returns the locals they touch. */
    private Set<Long> index(String key) {
        List<PolicyEngine.Contribution> cs = policies.getOrDefault(key, List.of()).stream()
                .map(p -> PolicyEngine.contribute(p, identities, budget, locals)).toList();
        contributions.put(key, cs);
        Set<Long> locals = new HashSet<>();
        for (PolicyEngine.Contribution c : cs) {
            locals.addAll(c.rawByLocal().keySet());
            c.ingress().forEach(l -> ingressRefs.merge(l, 1, Integer::sum));
            c.egress().forEach(l -> egressRefs.merge(l, 1, Integer::sum));
        }
        locals.forEach(l -> contributorsByLocal.computeIfAbsent(l, x -> new HashSet<>()).add(key));
        return locals;
    }

    /** Drops the indexed contributions under {@code key}; returns the locals they touched. */
    private Set<Long> unindex(String key) {
        List<PolicyEngine.Contribution> cs = contributions.remove(key);
        Set<Long> locals = new HashSet<>();
        if (cs == null) {
            return locals;
        }
        for (PolicyEngine.Contribution c : cs) {
            locals.addAll(c.rawByLocal().keySet());
            c.ingress().forEach(l -> decrement(ingressRefs, l));
            c.egress().forEach(l -> decrement(egressRefs, l));
        }
        for (long l : locals) {
            Set<String> keys = contributorsByLocal.get(l);
            if (keys != null) {
                keys.remove(key);
                if (keys.isEmpty()) {
                    contributorsByLocal.remove(l);
                }
            }
        }
        return locals;
    }

    private static void decrement(Map<Long, Integer> refs, long l) {
        refs.computeIfPresent(l, (k, v) -> v == 1 ? null : v - 1);
    }

    private void recompute(Set<Long> locals) {
        lastTouched = locals.size();
        for (long local : locals) {
            Map<EntryKey, EntryValue> raw = new HashMap<>();
            for (String key : contributorsByLocal.getOrDefault(local, Set.of())) {
                for (PolicyEngine.Contribution c : contributions.get(key)) {
                    c.rawByLocal().getOrDefault(local, Map.of()).forEach((k, v) -> raw.merge(k, v, EntryValue::merge));
                }
            }
            if (raw.isEmpty()) {
                entriesByLocal.remove(local);
            } else {
                entriesByLocal.put(local, PolicyEngine.propagate(raw, budget));
            }
        }
    }

    /** Local identities the last change recomputed (for tests and benchmarks). */
    public int lastTouched() {
        return lastTouched;
    }

    /** The current evaluation. */
    public PolicyEngine snapshot() {
        Map<EntryKey, EntryValue> all = new HashMap<>();
        entriesByLocal.values().forEach(all::putAll);
        return new PolicyEngine(Map.copyOf(all), Set.copyOf(ingressRefs.keySet()), Set.copyOf(egressRefs.keySet()));
    }
}
