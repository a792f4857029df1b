package dev.meshauth.bpf.datapath;

/** The enforcement program's per-CPU counters, by index in the counters map. */
public enum Counter {
    /** Packets passed (including everything not IPv4 TCP/UDP to a selected endpoint). */
    PASSED,
    /** Dropped: denied, or no allow entry for a selected endpoint, or an unreadable L4 header. */
    DROPPED_POLICY,
    /** Dropped: the policy demands authentication and the pair has no valid auth map entry. */
    DROPPED_AUTH,
    /** Auth-required records written to the ring buffer. */
    SIGNALS_EMITTED,
    /** Auth-required records not written because one was sent for that key within the interval. */
    SIGNALS_SUPPRESSED,
    /** Auth-required records lost because the ring buffer was full. */
    SIGNALS_LOST
}
