package dev.meshauth.bpf.auth;

import dev.meshauth.bpf.map.Codec;
import dev.meshauth.bpf.map.MapFlags;
import dev.meshauth.bpf.map.MapSpec;
import dev.meshauth.bpf.map.MapType;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.VarHandle;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * The exact layout of {@code cilium_auth_map}: BPF_MAP_TYPE_HASH, BPF_F_NO_PREALLOC, 12-byte key,
 * 8-byte value, host byte order (bpf/lib/common.h, pkg/maps/authmap/auth_map.go).
 */
public final class AuthMapLayout {
    /** Cilium's map name. */
    public static final String MAP_NAME = "cilium_auth_map";
    /** Cilium's pin path, where its datapath looks for the map. */
    public static final Path DEFAULT_PIN_PATH = Path.of("/sys/fs/bpf/tc/globals/" + MAP_NAME);
    /** Cilium's {@code --bpf-auth-map-max} default, 1 &lt;&lt; 19. */
    public static final int DEFAULT_MAX_ENTRIES = 1 << 19;
    /** Cilium's minimum for {@code --bpf-auth-map-max}. */
    public static final int MIN_ENTRIES = 1 << 8;
    /** Cilium's maximum for {@code --bpf-auth-map-max}. */
    public static final int MAX_ENTRIES = 1 << 24;

    /** {@code struct auth_key}: 12 bytes, native byte order. */
    public static final StructLayout KEY = MemoryLayout.structLayout(
            JAVA_INT.withName("local_sec_label"),
            JAVA_INT.withName("remote_sec_label"),
            JAVA_SHORT.withName("remote_node_id"),
            JAVA_BYTE.withName("auth_type"),
            JAVA_BYTE.withName("pad")).withName("auth_key");

    /** {@code struct auth_info}: 8 bytes. */
    public static final StructLayout VALUE = MemoryLayout.structLayout(
            JAVA_LONG.withName("expiration")).withName("auth_info");

    private static final VarHandle LOCAL = field(KEY, "local_sec_label");
    private static final VarHandle REMOTE = field(KEY, "remote_sec_label");
    private static final VarHandle NODE = field(KEY, "remote_node_id");
    private static final VarHandle TYPE = field(KEY, "auth_type");
    private static final VarHandle PAD = field(KEY, "pad");
    private static final VarHandle EXPIRATION = field(VALUE, "expiration");

    /** Key codec: unsigned fields widened into Java types. */
    public static final Codec<AuthKey> KEY_CODEC = new Codec<>() {
        @Override
        public int size() {
            return (int) KEY.byteSize();
        }

        @Override
        public void encode(AuthKey k, MemorySegment dst, long offset) {
            LOCAL.set(dst, offset, (int) k.localIdentity());
            REMOTE.set(dst, offset, (int) k.remoteIdentity());
            NODE.set(dst, offset, (short) k.remoteNodeId());
            TYPE.set(dst, offset, (byte) k.authType().code());
            PAD.set(dst, offset, (byte) 0);
        }

        @Override
        public AuthKey decode(MemorySegment src, long offset) {
            return new AuthKey(Integer.toUnsignedLong((int) LOCAL.get(src, offset)),
                    Integer.toUnsignedLong((int) REMOTE.get(src, offset)),
                    Short.toUnsignedInt((short) NODE.get(src, offset)),
                    new AuthType(Byte.toUnsignedInt((byte) TYPE.get(src, offset))));
        }
    };

    /** Value codec. */
    public static final Codec<AuthInfo> VALUE_CODEC = new Codec<>() {
        @Override
        public int size() {
            return (int) VALUE.byteSize();
        }

        @Override
        public void encode(AuthInfo v, MemorySegment dst, long offset) {
            EXPIRATION.set(dst, offset, v.expiration().ticks());
        }

        @Override
        public AuthInfo decode(MemorySegment src, long offset) {
            return new AuthInfo(new UTime((long) EXPIRATION.get(src, offset)));
        }
    };

    private AuthMapLayout() {
    }

    /**
     * The map spec, with BTF so {@code bpftool map dump} prints field names.
     *
     * @throws IllegalArgumentException if {@code maxEntries} is outside Cilium's bounds
     */
    public static MapSpec spec(int maxEntries) {
        if (maxEntries < MIN_ENTRIES || maxEntries > MAX_ENTRIES) {
            throw new IllegalArgumentException("auth map size must be " + MIN_ENTRIES + ".." + MAX_ENTRIES
                    + " entries (Cilium's --bpf-auth-map-max bounds), got " + maxEntries);
        }
        return MapSpec.withBtf(MAP_NAME, MapType.HASH, KEY, VALUE, maxEntries, MapFlags.NO_PREALLOC);
    }

    private static VarHandle field(StructLayout layout, String name) {
        return layout.varHandle(MemoryLayout.PathElement.groupElement(name));
    }
}
