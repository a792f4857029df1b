package dev.meshauth.bpf.map;

import java.lang.foreign.StructLayout;
import java.util.ArrayList;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.regex.Pattern;

/**
 * What a map must be: the arguments of {@code BPF_MAP_CREATE}, and what an opened pinned map is checked
 * against before it is used.
 *
 * @param name        object name, at most 15 characters of {@code [A-Za-z0-9_.]} ({@code BPF_OBJ_NAME_LEN} 16)
 * @param type        map type
 * @param keySize     key size in bytes
 * @param valueSize   value size in bytes
 * @param maxEntries  capacity
 * @param flags       {@code map_flags}, such as {@link MapFlags#NO_PREALLOC}
 * @param keyLayout   key struct, for BTF, if the map should be pretty-printable
 * @param valueLayout value struct, for BTF
 */
public record MapSpec(String name, MapType type, int keySize, int valueSize, int maxEntries, int flags,
        Optional<StructLayout> keyLayout, Optional<StructLayout> valueLayout) {

    private static final Pattern NAME = Pattern.compile("[A-Za-z0-9_.]{0,15}");

    /** Checks what the kernel would otherwise reject with a bare EINVAL. */
    public MapSpec {
        Objects.requireNonNull(name, "name");
        Objects.requireNonNull(type, "type");
        Objects.requireNonNull(keyLayout, "keyLayout");
        Objects.requireNonNull(valueLayout, "valueLayout");
        if (!NAME.matcher(name).matches()) {
            throw new IllegalArgumentException("map name '" + name
                    + "' must be at most 15 characters of letters, digits, '_' and '.'");
        }
        if (maxEntries <= 0) {
            throw new IllegalArgumentException("map " + name + ": maxEntries must be positive, got " + maxEntries);
        }
        if (type != MapType.RINGBUF && (keySize <= 0 || valueSize <= 0)) {
            throw new IllegalArgumentException("map " + name + ": key and value sizes must be positive");
        }
        if (type == MapType.LPM_TRIE && (flags & MapFlags.NO_PREALLOC) == 0) {
            throw new IllegalArgumentException("map " + name + ": an LPM trie requires BPF_F_NO_PREALLOC");
        }
        keyLayout.ifPresent(l -> requireSize(name, "key", l, keySize));
        valueLayout.ifPresent(l -> requireSize(name, "value", l, valueSize));
    }

    /** A spec with no BTF. */
    public static MapSpec of(String name, MapType type, int keySize, int valueSize, int maxEntries, int flags) {
        return new MapSpec(name, type, keySize, valueSize, maxEntries, flags, Optional.empty(), Optional.empty());
    }

    /** A spec whose key and value sizes come from struct layouts, with BTF so bpftool shows field names. */
    public static MapSpec withBtf(String name, MapType type, StructLayout key, StructLayout value, int maxEntries,
            int flags) {
        return new MapSpec(name, type, (int) key.byteSize(), (int) value.byteSize(), maxEntries, flags,
                Optional.of(key), Optional.of(value));
    }

    /** The same spec with another capacity. */
    public MapSpec withMaxEntries(int entries) {
        return new MapSpec(name, type, keySize, valueSize, entries, flags, keyLayout, valueLayout);
    }

    /**
     * The ways {@code actual} differs from this spec in type, key size, value size or flags; empty if it
     * is compatible. Capacity is not compared: another program may have sized the map differently, and
     * that does not change how entries are read or written.
     */
    public List<String> mismatches(MapInfo actual) {
        List<String> out = new ArrayList<>();
        if (actual.type() != type.number()) {
            out.add("type " + MapType.describe(actual.type()) + " (expected " + MapType.describe(type.number()) + ")");
        }
        if (actual.keySize() != keySize) {
            out.add("key size " + actual.keySize() + " (expected " + keySize + ")");
        }
        if (actual.valueSize() != valueSize) {
            out.add("value size " + actual.valueSize() + " (expected " + valueSize + ")");
        }
        if (actual.flags() != flags) {
            out.add("flags 0x" + Integer.toHexString(actual.flags()) + " (expected 0x" + Integer.toHexString(flags) + ")");
        }
        return out;
    }

    private static void requireSize(String name, String what, StructLayout layout, int size) {
        if (layout.byteSize() != size) {
            throw new IllegalArgumentException("map " + name + ": " + what + " layout is " + layout.byteSize()
                    + " bytes but " + what + " size is " + size);
        }
    }
}
