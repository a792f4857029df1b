package dev.meshauth.bpf.datapath;

/** Traffic direction of a policy entry, relative to the local endpoint. */
public enum Direction {
    /** Into the local endpoint; enforced where the destination lives. */
    INGRESS,
    /** Out of the local endpoint. */
    EGRESS
}
