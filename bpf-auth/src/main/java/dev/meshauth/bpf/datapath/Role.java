package dev.meshauth.bpf.datapath;

/**
 * Which side of a local endpoint a program instance enforces: its ingress policy on traffic it receives,
 * or its egress policy on traffic it sends. Each endpoint gets both, so each direction is enforced where
 * its endpoint lives, and connection tracking sees both ways.
 */
public enum Role {
    /** Traffic into the endpoint: the destination's ingress policy (tcx ingress of the pod's interface). */
    TO_ENDPOINT(Direction.INGRESS, 1, "meshauth_to"),
    /** Traffic out of the endpoint: the source's egress policy (tcx egress of the pod's interface). */
    FROM_ENDPOINT(Direction.EGRESS, 2, "meshauth_from");

    private final Direction direction;
    private final int ctBit;
    private final String programName;

    Role(Direction direction, int ctBit, String programName) {
        this.direction = direction;
        this.ctBit = ctBit;
        this.programName = programName;
    }

    /** The policy direction this role enforces. */
    public Direction direction() {
        return direction;
    }

    /** The conntrack flag this role sets on a connection it let open (see {@link Conntrack}). */
    int ctBit() {
        return ctBit;
    }

    /** The other role's conntrack flag. */
    int otherCtBit() {
        return this == TO_ENDPOINT ? FROM_ENDPOINT.ctBit : TO_ENDPOINT.ctBit;
    }

    /** The kernel name of the program. */
    String programName() {
        return programName;
    }
}
