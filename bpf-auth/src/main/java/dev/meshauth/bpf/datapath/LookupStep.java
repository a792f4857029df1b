package dev.meshauth.bpf.datapath;

import java.util.HashSet;
import java.util.List;

/**
 * One probe of the policy map by the enforcement program: with the packet's remote identity, or with the
 * wildcard 0; within a probe the LPM trie picks the longest (protocol, port prefix) match. The program
 * probes in the order it is given (first hit wins); the order is the policy engine's (the agent passes
 * {@code dev.meshauth.policy.eval.LookupStep.ORDER}), not defined here.
 *
 * @param anyRemote probe remote identity 0
 */
public record LookupStep(boolean anyRemote) {
    /** Checks an order: non-empty, no step twice. */
    static List<LookupStep> checkOrder(List<LookupStep> order) {
        if (order.isEmpty()) {
            throw new IllegalArgumentException("the policy lookup order needs at least one step");
        }
        if (new HashSet<>(order).size() != order.size()) {
            throw new IllegalArgumentException("the policy lookup order probes a key twice: " + order);
        }
        return List.copyOf(order);
    }
}
