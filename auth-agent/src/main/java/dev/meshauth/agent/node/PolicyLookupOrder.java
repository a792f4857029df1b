package dev.meshauth.agent.node;

import dev.meshauth.bpf.datapath.LookupStep;

import java.util.List;

/** The policy engine's lookup order ({@code dev.meshauth.policy.eval.LookupStep.ORDER}) in the datapath's terms. */
public final class PolicyLookupOrder {
    private PolicyLookupOrder() {
    }

    /** The order the standalone datapath's programs are assembled with. */
    public static List<LookupStep> forDatapath() {
        return dev.meshauth.policy.eval.LookupStep.ORDER.stream().map(s -> new LookupStep(s.anyRemote())).toList();
    }
}
