package dev.meshauth.policy.endpoint;

/**
 * Cilium's reserved identities (pkg/identity/numericidentity.go). Identities below 256 are reserved and
 * never authenticated; allocated identities start at 256.
 */
public enum ReservedIdentity {
    HOST(1), WORLD(2), UNMANAGED(3), HEALTH(4), INIT(5), REMOTE_NODE(6), KUBE_APISERVER(7), INGRESS(8);

    /** First identity that may be allocated to labels. */
    public static final long MIN_ALLOCATED = 256;

    private final long id;

    ReservedIdentity(long id) {
        this.id = id;
    }

    /** The numeric identity. */
    public long id() {
        return id;
    }

    /** True for identities that are never authenticated. */
    public static boolean isReserved(long identity) {
        return identity < MIN_ALLOCATED;
    }
}
