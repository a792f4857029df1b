package dev.meshauth.bpf.datapath;

/** Traffic direction of a policy entry, relative to the local endpoint. */
public enum Direction {
    /** Into the local endpoint; enforced where the destination lives. */
    INGRESS(0),
    /** Out of the local endpoint. */
    EGRESS(1);

    private final int wire;

    Direction(int wire) {
        this.wire = wire;
    }

    /** The {@code dir} byte of a policy key. */
    public int wire() {
        return wire;
    }

    /**
     * The direction of a {@code dir} byte.
     *
     * @throws IllegalArgumentException for a byte no direction has
     */
    public static Direction fromWire(int b) {
        for (Direction d : values()) {
            if (d.wire == b) {
                return d;
            }
        }
        throw new IllegalArgumentException("policy key direction byte must be 0 (ingress) or 1 (egress), got " + b);
    }
}
