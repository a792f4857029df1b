package dev.meshauth.bpf.map;

/** {@code BPF_MAP_CREATE} flags (include/uapi/linux/bpf.h) used by this project. */
public final class MapFlags {
    /** {@code BPF_F_NO_PREALLOC}: allocate elements on insert, as Cilium's auth map does. */
    public static final int NO_PREALLOC = 1;
    /** {@code BPF_F_RDONLY}: on {@code OBJ_GET}, a handle that cannot change the map. */
    public static final int RDONLY = 1 << 3;

    private MapFlags() {
    }
}
