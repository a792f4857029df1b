package dev.meshauth.bpf.sys;

import java.lang.foreign.StructLayout;

/**
 * {@code enum bpf_cmd} (include/uapi/linux/bpf.h). The numbering is kernel ABI and never changes.
 *
 * <p>{@link #attrSize} is the size of the command's layout in {@link BpfAttrs}: {@code offsetofend} of the
 * last {@code union bpf_attr} field this code sets for the command, as libbpf passes it: the kernel rejects non-zero bytes past the fields it knows (EINVAL),
 * so passing exactly what we fill keeps us working on kernels older than our view of the union.
 */
public enum BpfCommand {
    MAP_CREATE(0, BpfAttrs.MAP_CREATE),
    MAP_LOOKUP_ELEM(1, BpfAttrs.MAP_ELEM),
    MAP_UPDATE_ELEM(2, BpfAttrs.MAP_ELEM),
    MAP_DELETE_ELEM(3, BpfAttrs.MAP_ELEM),
    MAP_GET_NEXT_KEY(4, BpfAttrs.MAP_ELEM),
    PROG_LOAD(5, BpfAttrs.PROG_LOAD),
    OBJ_PIN(6, BpfAttrs.OBJ_PIN),
    OBJ_GET(7, BpfAttrs.OBJ_PIN),
    PROG_TEST_RUN(10, BpfAttrs.PROG_TEST_RUN),
    PROG_GET_FD_BY_ID(13, BpfAttrs.GET_ID),
    OBJ_GET_INFO_BY_FD(15, BpfAttrs.OBJ_GET_INFO_BY_FD),
    BTF_LOAD(18, BpfAttrs.BTF_LOAD),
    MAP_LOOKUP_BATCH(24, BpfAttrs.MAP_BATCH),
    MAP_UPDATE_BATCH(26, BpfAttrs.MAP_BATCH),
    MAP_DELETE_BATCH(27, BpfAttrs.MAP_BATCH),
    LINK_CREATE(28, BpfAttrs.LINK_CREATE_TCX),
    LINK_DETACH(34, BpfAttrs.LINK_DETACH);

    private final int number;
    private final StructLayout layout;
    private final int attrSize;

    BpfCommand(int number, StructLayout layout) {
        this.number = number;
        this.layout = layout;
        this.attrSize = (int) layout.byteSize();
    }

    /** The command's {@code union bpf_attr} member, as this code fills it. */
    public StructLayout layout() {
        return layout;
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
