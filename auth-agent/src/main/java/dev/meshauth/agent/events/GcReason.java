package dev.meshauth.agent.events;

/** Why an auth entry was deleted (the {@code reason} label of the GC metric). */
public enum GcReason {
    /** Past its expiration. */
    EXPIRED,
    /** Its remote node is gone. */
    NODE_DELETED,
    /** One of its identities no longer exists in the cluster (judged only once identities are synced). */
    IDENTITY_DELETED,
    /** Its local identity has no endpoint on this node any more. */
    NO_LOCAL_ENDPOINT,
    /** No policy requires authentication for the pair any more. */
    NOT_REQUIRED,
    /** An identity's SVID was removed by SPIRE. */
    SVID_REMOVED,
    /** The trust bundle lost a CA the pair was authenticated under. */
    CA_REMOVED;

    /** The lower-case label used in metrics, events and JSON. */
    public String label() {
        return name().toLowerCase(java.util.Locale.ROOT).replace('_', '-');
    }
}
