package dev.meshauth.bpf.datapath;

/** How one direction of an endpoint's traffic is judged. */
public enum PolicyMode {
    /** No policy: everything passes, the policy map is not consulted. */
    NONE,
    /** Policy entries apply (deny, auth), but traffic no entry matches passes ({@code enableDefaultDeny: false}). */
    DEFAULT_ALLOW,
    /** Policy entries apply, and traffic no entry matches is dropped (an endpoint a policy selects). */
    DEFAULT_DENY
}
