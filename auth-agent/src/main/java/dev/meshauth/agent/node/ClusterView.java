package dev.meshauth.agent.node;

import dev.meshauth.agent.node.source.ClusterSnapshot;
import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.policy.PolicyException;
import dev.meshauth.policy.endpoint.NodeInfo;
import dev.meshauth.policy.eval.PolicyEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executor;
import java.util.concurrent.FutureTask;

/**
 * The one owner of what this node needs. Every change of view (a file or Kubernetes change, Cilium
 * numbering a node) runs on the agent's single loop, in the order it arrived, and derives from the newest
 * raw view at the moment it runs: an older view can never overwrite a newer one. Readers on other
 * threads see the last applied {@link State}.
 */
final class ClusterView {
    private static final Logger LOG = LoggerFactory.getLogger(ClusterView.class);

    /**
     * What this node needs, derived from one cluster view ({@code cluster}: with Cilium's node ids when
     * feeding Cilium; {@code raw}: as the source gave it; {@code unkeyed}: nodes left out for lack of an id).
     */
    record State(ClusterSnapshot cluster, PolicyEngine engine, Set<AuthKey> required, Set<Long> localIdentities,
            NodeInfo self, ClusterSnapshot raw, List<String> unkeyed) {
    }

    /** Derives a state from a raw view. */
    @FunctionalInterface
    interface Derivation {
        State derive(ClusterSnapshot raw) throws PolicyException, BpfException;
    }

    /** Acts on a newly applied state (on the loop). */
    @FunctionalInterface
    interface Applier {
        void applied(State s) throws BpfException;
    }

    private final Executor loop;
    private final Derivation derivation;
    private volatile State state; // written only on the loop
    private volatile Applier applier = s -> { };
    private ClusterSnapshot early; // on the loop: a view that came before the first was installed
    private volatile Optional<String> refusal = Optional.empty(); // written only on the loop

    ClusterView(Executor loop, Derivation derivation) {
        this.loop = loop;
        this.derivation = derivation;
    }

    /**
     * Installs the source's first view on the loop and waits for it: its problems fail the start. A view
     * the source delivered while starting is applied right after.
     */
    State install(ClusterSnapshot first) throws PolicyException, BpfException, InterruptedException {
        FutureTask<State> t = new FutureTask<>(() -> {
            state = derivation.derive(first);
            return state;
        });
        loop.execute(t);
        try {
            return t.get();
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case PolicyException p -> throw p;
                case BpfException b -> throw b;
                case RuntimeException r -> throw r;
                default -> throw new IllegalStateException(e.getCause());
            }
        }
    }

    /**
     * Applies the installed state to {@code a} and waits (its failure fails the start); from then on every
     * applied state goes to {@code a}, first a view that arrived while starting.
     */
    void attach(Applier a) throws BpfException, InterruptedException {
        FutureTask<Void> t = new FutureTask<>(() -> {
            a.applied(state);
            applier = a;
            if (early != null) {
                ClusterSnapshot v = early;
                early = null;
                apply(v);
            }
            return null;
        });
        loop.execute(t);
        try {
            t.get();
        } catch (ExecutionException e) {
            switch (e.getCause()) {
                case BpfException b -> throw b;
                case RuntimeException r -> throw r;
                default -> throw new IllegalStateException(e.getCause());
            }
        }
    }

    /** A new raw view from the source (any thread): applied on the loop, in arrival order. */
    void offer(ClusterSnapshot raw) {
        loop.execute(() -> {
            if (state == null) {
                early = raw;
            } else {
                apply(raw);
            }
        });
    }

    /** Re-derives from the current raw view if {@code changed} says the derivation would differ (on the loop). */
    void rederiveIf(java.util.function.Predicate<State> changed) {
        loop.execute(() -> {
            State s = state;
            if (s != null && changed.test(s)) {
                apply(s.raw());
            }
        });
    }

    private void apply(ClusterSnapshot raw) {
        try {
            State next = derivation.derive(raw);
            state = next;
            applier.applied(next);
            refusal = Optional.empty();
            LOG.atInfo().addKeyValue("nodes", raw.nodes().size()).addKeyValue("endpoints", raw.endpoints().size())
                    .addKeyValue("policies", raw.policies().size()).addKeyValue("required_pairs", next.required().size())
                    .log("cluster view applied");
        } catch (PolicyException e) {
            refusal = Optional.of(e.getMessage().replace('\n', ';'));
            LOG.atError().addKeyValue("problems", e.getMessage().replace('\n', ';'))
                    .log("cluster view refused, the last good state stays");
        } catch (BpfException | RuntimeException e) {
            refusal = Optional.of(e.toString());
            LOG.atError().addKeyValue("error", e.toString()).log("applying the cluster view failed, the last good state stays");
        }
    }

    /** Why the newest view was refused, until a later one is applied. */
    Optional<String> refusal() {
        return refusal;
    }

    /** The state last applied (null before {@link #install}). */
    State current() {
        return state;
    }

    /** The agent address of node {@code nodeId} in the current view. */
    Optional<NodeInfo> node(int nodeId) {
        State s = state;
        return s == null ? Optional.empty() : s.cluster().nodes().stream().filter(n -> n.id() == nodeId).findFirst();
    }
}
