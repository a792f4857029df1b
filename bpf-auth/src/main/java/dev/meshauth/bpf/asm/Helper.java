package dev.meshauth.bpf.asm;

/** Kernel helper functions by name, with their ids ({@code enum bpf_func_id}, include/uapi/linux/bpf.h). */
public enum Helper {
    MAP_LOOKUP_ELEM(1), MAP_UPDATE_ELEM(2), MAP_DELETE_ELEM(3), KTIME_GET_NS(5), TRACE_PRINTK(6),
    GET_PRANDOM_U32(7), GET_SMP_PROCESSOR_ID(8), SKB_LOAD_BYTES(26), RINGBUF_OUTPUT(130),
    RINGBUF_RESERVE(131), RINGBUF_SUBMIT(132), RINGBUF_DISCARD(133);

    private final int id;

    Helper(int id) {
        this.id = id;
    }

    /** The helper id, the CALL instruction's immediate. */
    public int id() {
        return id;
    }

    /** The kernel's name, {@code bpf_map_lookup_elem}. */
    public String kernelName() {
        return "bpf_" + name().toLowerCase(java.util.Locale.ROOT);
    }

    static String nameOf(int id) {
        for (Helper h : values()) {
            if (h.id == id) {
                return h.kernelName();
            }
        }
        return "helper#" + id;
    }
}
