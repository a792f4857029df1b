package dev.meshauth.bpf.map;

/**
 * What the kernel says a map is ({@code struct bpf_map_info} from {@code BPF_OBJ_GET_INFO_BY_FD}).
 *
 * @param type       {@code bpf_map_type} number (kept raw: a pinned map may be of a type we do not model)
 * @param id         kernel-wide map id, as {@code bpftool map show} prints it
 * @param keySize    key size in bytes
 * @param valueSize  value size in bytes
 * @param maxEntries capacity
 * @param flags      creation flags
 * @param name       object name
 * @param btfId      id of the BTF object describing key and value, 0 if none
 */
public record MapInfo(int type, int id, int keySize, int valueSize, int maxEntries, int flags, String name,
        int btfId) {
}
