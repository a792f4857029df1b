package dev.meshauth.bpf.datapath;

import java.util.Objects;

/**
 * How the enforcement programs treat an identity's endpoints, both ways: the endpoints map's value
 * ({@code struct endpoint_value {u32 flags}}). An identity with neither policy has no entry, and its
 * traffic passes untracked.
 *
 * @param ingress traffic into the endpoints (judged where they receive it)
 * @param egress  traffic out of them (judged where they send it)
 */
public record EndpointPolicy(PolicyMode ingress, PolicyMode egress) {
    /** No policy either way. */
    public static final EndpointPolicy NONE = new EndpointPolicy(PolicyMode.NONE, PolicyMode.NONE);

    static final int INGRESS_POLICY = 1;
    static final int INGRESS_DEFAULT_DENY = 2;
    static final int EGRESS_POLICY = 4;
    static final int EGRESS_DEFAULT_DENY = 8;

    /** Checks. */
    public EndpointPolicy {
        Objects.requireNonNull(ingress, "ingress");
        Objects.requireNonNull(egress, "egress");
    }

    /** Default deny into the endpoints, no egress policy. */
    public static EndpointPolicy ingressDefaultDeny() {
        return new EndpointPolicy(PolicyMode.DEFAULT_DENY, PolicyMode.NONE);
    }

    /** The endpoints map flags; 0 for {@link #NONE}. */
    int flags() {
        return bits(ingress, INGRESS_POLICY, INGRESS_DEFAULT_DENY) | bits(egress, EGRESS_POLICY, EGRESS_DEFAULT_DENY);
    }

    private static int bits(PolicyMode m, int policy, int deny) {
        return switch (m) {
            case NONE -> 0;
            case DEFAULT_ALLOW -> policy;
            case DEFAULT_DENY -> policy | deny;
        };
    }

    /** The policy an endpoints map value stands for. */
    static EndpointPolicy fromFlags(int flags) {
        return new EndpointPolicy(mode(flags, INGRESS_POLICY, INGRESS_DEFAULT_DENY), mode(flags, EGRESS_POLICY,
                EGRESS_DEFAULT_DENY));
    }

    private static PolicyMode mode(int flags, int policy, int deny) {
        if ((flags & policy) == 0) {
            return PolicyMode.NONE;
        }
        return (flags & deny) != 0 ? PolicyMode.DEFAULT_DENY : PolicyMode.DEFAULT_ALLOW;
    }
}
