package dev.meshauth.bpf.datapath;

/**
 * The enforcement programs' per-CPU counters, by index in the counters map. Every packet bumps exactly one
 * verdict counter ({@link #verdict()}); the others say why or what else happened.
 */
public enum Counter {
    /** Passed: no policy applies, a rule allows, or the connection is tracked. */
    PASSED(0, true),
    /** Dropped: denied, no allow entry under default deny, or an unreadable header where policy applies. */
    DROPPED_POLICY(1, true),
    /** Dropped: the policy demands authentication and the pair has no valid auth map entry. */
    DROPPED_AUTH(2, true),
    /** Auth-required records written to the ring buffer. */
    SIGNALS_EMITTED(3, false),
    /** Auth-required records not written because one was sent for that key within the interval. */
    SIGNALS_SUPPRESSED(4, false),
    /** Auth-required records lost because the ring buffer was full. */
    SIGNALS_LOST(5, false),
    /** Dropped: a later IPv4/IPv6 fragment whose first fragment was not let through (or not seen). */
    DROPPED_FRAGMENT(6, true),
    /** New connections let through and tracked (an entry created or given this side's approval). */
    CT_CREATED(7, false),
    /** Packets passed as part of a connection this side already let through. */
    CT_ESTABLISHED(8, false),
    /** Packets passed as replies of a connection the other side of this endpoint let through. */
    CT_REPLY(9, false),
    /** ICMP errors passed because they belong to a tracked connection. */
    CT_RELATED(10, false),
    /** TCP SYNs dropped for a missing auth entry whose frame was handed to the agent to put back (a {@link HeldSyn}). */
    SYNS_HELD(11, false),
    /** Such SYNs not handed over: the ring buffer was full, or the frame could not be read. */
    SYNS_HELD_LOST(12, false);

    private final int index;
    private final boolean verdict;

    Counter(int index, boolean verdict) {
        this.index = index;
        this.verdict = verdict;
    }

    /** The counter's key in the counters map. */
    public int index() {
        return index;
    }

    /** True for the counters that count verdicts: each packet bumps one of them. */
    public boolean verdict() {
        return verdict;
    }

    /** Entries the counters map needs: one past the highest index. */
    static int mapSize() {
        int max = 0;
        for (Counter c : values()) {
            max = Math.max(max, c.index);
        }
        return max + 1;
    }
}
