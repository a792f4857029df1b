package dev.meshauth.bpf.sys;

/**
 * {@code enum bpf_cmd} (include/uapi/linux/bpf.h). The numbering is kernel ABI and never changes.
 *
 * <p>{@link #attrSize} is {@code offsetofend} of the last {@code union bpf_attr} field this code sets for
 * the command, as libbpf passes it: the kernel rejects non-zero bytes past the fields it knows (EINVAL),
 * so passing exactly what we fill keeps us working on kernels older than our view of the union.
 */
public enum BpfCommand {
    MAP_CREATE(0, 72),
    MAP_LOOKUP_ELEM(1, 32),
    MAP_UPDATE_ELEM(2, 32),
    MAP_DELETE_ELEM(3, 32),
    MAP_GET_NEXT_KEY(4, 32),
    PROG_LOAD(5, 72),
    OBJ_PIN(6, 16),
    OBJ_GET(7, 16),
    PROG_TEST_RUN(10, 76),
    PROG_GET_FD_BY_ID(13, 12),
    OBJ_GET_INFO_BY_FD(15, 16),
    BTF_LOAD(18, 28),
    MAP_LOOKUP_BATCH(24, 56),
    MAP_UPDATE_BATCH(26, 56),
    MAP_DELETE_BATCH(27, 56),
    LINK_CREATE(28, 32),
    LINK_DETACH(34, 4);

    private final int number;
    private final int attrSize;

    BpfCommand(int number, int attrSize) {
        this.number = number;
        this.attrSize = attrSize;
    }

    /** The command number passed as bpf(2)'s first argument. */
    public int number() {
        return number;
    }

    /** Bytes of {@code union bpf_attr} passed for this command. */
    public int attrSize() {
        return attrSize;
    }

    /** The name operators know from the kernel headers and bpftool, such as {@code BPF_MAP_CREATE}. */
    public String kernelName() {
        return "BPF_" + name();
    }
}
