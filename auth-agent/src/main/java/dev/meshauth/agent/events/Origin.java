package dev.meshauth.agent.events;

/** Why a key was authenticated. */
public enum Origin {
    /** The datapath dropped a packet of the pair and signalled. */
    SIGNAL,
    /** A policy requires the pair (authenticated ahead of traffic). */
    POLICY,
    /** The entry nears its expiry. */
    REFRESH,
    /** An SVID of the pair rotated, or the trust bundle changed. */
    ROTATION,
    /** An earlier attempt failed. */
    RETRY,
    /** Found in the pinned map when the agent started. */
    RESTORED,
    /** The kernel map lost the entry, or holds another expiry, behind the agent's back. */
    REPAIR;

    /** The lower-case label used in events and JSON. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT);
    }
}
