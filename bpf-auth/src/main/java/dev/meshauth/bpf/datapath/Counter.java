package dev.meshauth.bpf.datapath;

/** The enforcement program's per-CPU counters, by index in the counters map. */
public enum Counter {
    /** Packets passed (including everything not IPv4 TCP/UDP to a selected endpoint). */
    PASSED(0),
    /** Dropped: denied, or no allow entry for a selected endpoint, or an unreadable L4 header. */
    DROPPED_POLICY(1),
    /** Dropped: the policy demands authentication and the pair has no valid auth map entry. */
    DROPPED_AUTH(2),
    /** Auth-required records written to the ring buffer. */
    SIGNALS_EMITTED(3),
    /** Auth-required records not written because one was sent for that key within the interval. */
    SIGNALS_SUPPRESSED(4),
    /** Auth-required records lost because the ring buffer was full. */
    SIGNALS_LOST(5);

    private final int index;

    Counter(int index) {
        this.index = index;
    }

    /** The counter's key in the counters map. */
    public int index() {
        return index;
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
