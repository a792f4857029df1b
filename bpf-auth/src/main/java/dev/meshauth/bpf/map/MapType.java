package dev.meshauth.bpf.map;

/** {@code enum bpf_map_type} values this project uses (include/uapi/linux/bpf.h). */
public enum MapType {
    HASH(1),
    ARRAY(2),
    PERCPU_ARRAY(6),
    LRU_HASH(9),
    LPM_TRIE(11),
    RINGBUF(27);

    private final int number;

    MapType(int number) {
        this.number = number;
    }

    /** The kernel's number for this type. */
    public int number() {
        return number;
    }

    /** The name bpftool prints for a kernel map type number, or "type N" for one not listed here. */
    public static String describe(int number) {
        for (MapType t : values()) {
            if (t.number == number) {
                return t.name().toLowerCase(java.util.Locale.ROOT);
            }
        }
        return "type " + number;
    }
}
