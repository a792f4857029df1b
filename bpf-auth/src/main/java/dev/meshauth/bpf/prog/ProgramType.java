package dev.meshauth.bpf.prog;

/** {@code enum bpf_prog_type} values this project loads. */
public enum ProgramType {
    SOCKET_FILTER(1), SCHED_CLS(3), XDP(6);

    private final int number;

    ProgramType(int number) {
        this.number = number;
    }

    /** The kernel's number. */
    public int number() {
        return number;
    }
}
