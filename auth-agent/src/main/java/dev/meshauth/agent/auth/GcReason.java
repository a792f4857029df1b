package dev.meshauth.agent.auth;

/** Why an auth entry was garbage-collected (the {@code reason} label of the GC metric). */
public enum GcReason {
    /** Past its expiration. */
    EXPIRED,
    /** Its remote node is gone. */
    NODE_DELETED,
    /** Its local identity has no endpoint on this node any more. */
    NO_LOCAL_ENDPOINT,
    /** No policy requires authentication for the pair any more. */
    NOT_REQUIRED,
    /** An identity's SVID was removed by SPIRE. */
    SVID_REMOVED
}
