package dev.meshauth.bpf.datapath;

/**
 * How the enforcement program treats traffic into an identity's endpoints: the endpoints map's entry
 * (absent, or its flags).
 */
public enum IngressPolicy {
    /** No ingress policy: everything passes, the policy map is not consulted (no entry in the map). */
    NONE(-1),
    /** Policy entries apply (deny, auth), but traffic no entry matches passes ({@code enableDefaultDeny: false}). */
    DEFAULT_ALLOW(0),
    /** Policy entries apply, and traffic no entry matches is dropped (an endpoint a policy selects). */
    DEFAULT_DENY(1);

    private final int flags;

    IngressPolicy(int flags) {
        this.flags = flags;
    }

    /** The endpoints map value ({@code flags}; bit 0: default deny); -1 for no entry. */
    int flags() {
        return flags;
    }

    /** The policy an endpoints map value stands for. */
    static IngressPolicy fromFlags(int flags) {
        return (flags & 1) != 0 ? DEFAULT_DENY : DEFAULT_ALLOW;
    }
}
