package dev.meshauth.policy.eval;

import dev.meshauth.policy.model.Direction;

import java.util.List;

/**
 * One probe of the policy map: which of the key's fields are replaced by the wildcard 0. {@link #ORDER}
 * is the one definition of the lookup order; {@link PolicyEngine} follows it, and the agent assembles
 * the standalone datapath's eBPF program from it, so the engine and the kernel cannot disagree on which
 * entry wins.
 *
 * @param anyRemote   probe remote identity 0 instead of the packet's
 * @param anyPort     probe port 0 instead of the packet's destination port
 * @param anyProtocol probe protocol 0 instead of the packet's
 */
public record LookupStep(boolean anyRemote, boolean anyPort, boolean anyProtocol) {
    /**
     * Most specific first, first hit wins: (remote, port, proto), (remote, any port, proto),
     * (remote, any, any), (any remote, port, proto), (any remote, any port, proto), (any, any, any).
     * Deny entries need no precedence of their own: the engine writes a deny into every more specific
     * allow it covers, so whichever entry is hit first carries it.
     */
    public static final List<LookupStep> ORDER = List.of(
            new LookupStep(false, false, false), new LookupStep(false, true, false), new LookupStep(false, true, true),
            new LookupStep(true, false, false), new LookupStep(true, true, false), new LookupStep(true, true, true));

    /** Validates: a concrete protocol with any port is allowed, any protocol with a concrete port is not. */
    public LookupStep {
        if (anyProtocol && !anyPort) {
            throw new IllegalArgumentException("a port is only meaningful with a protocol");
        }
    }

    /** The key this step probes for a packet. */
    EntryKey key(long local, long remote, int port, int protocol, Direction dir) {
        return new EntryKey(local, anyRemote ? 0 : remote, anyPort ? 0 : port, anyProtocol ? 0 : protocol, dir);
    }
}
