package dev.meshauth.policy.eval;

import java.util.List;

/**
 * One probe of the policy map: with the packet's remote identity, or with the wildcard 0. Within a probe
 * the longest match wins over (protocol, port prefix), as the kernel's LPM trie decides it: one port before
 * a range before every port of the protocol before every protocol. {@link #ORDER} is the one definition
 * of the lookup order; {@link PolicyEngine} follows it, and the agent assembles the standalone datapath's
 * eBPF program from it, so the engine and the kernel cannot disagree on which entry wins.
 *
 * @param anyRemote probe remote identity 0 instead of the packet's
 */
public record LookupStep(boolean anyRemote) {
    /**
     * The packet's remote identity first, then any remote; first hit wins. Deny entries need no precedence
     * of their own: the engine writes a deny into every entry it overlaps that a lookup could hit first.
     */
    public static final List<LookupStep> ORDER = List.of(new LookupStep(false), new LookupStep(true));
}
