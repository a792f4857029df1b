package dev.meshauth.bpf.link;

/** tcx hooks: {@code BPF_TCX_INGRESS} (46) and {@code BPF_TCX_EGRESS} (47). */
public enum TcxDirection {
    INGRESS(46), EGRESS(47);

    private final int attachType;

    TcxDirection(int attachType) {
        this.attachType = attachType;
    }

    /** The {@code bpf_attach_type} number. */
    public int attachType() {
        return attachType;
    }
}
