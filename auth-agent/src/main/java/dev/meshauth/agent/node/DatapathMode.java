package dev.meshauth.agent.node;

import java.util.Locale;

/** Which datapath the agent feeds ({@code --datapath}). */
public enum DatapathMode {
    /** Fill the pinned auth map for Cilium's datapath. */
    CILIUM,
    /** Also load meshauth's own enforcement program on this node's endpoints and consume its signals. */
    STANDALONE,
    /** No kernel: an in-memory map (development). */
    MEMORY;

    /** As {@code --datapath} spells it. */
    @Override
    public String toString() {
        return name().toLowerCase(Locale.ROOT);
    }
}
