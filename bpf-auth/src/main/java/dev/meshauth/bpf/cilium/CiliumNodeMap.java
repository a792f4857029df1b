package dev.meshauth.bpf.cilium;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.map.BpfMap;
import dev.meshauth.bpf.map.MapFlags;
import dev.meshauth.bpf.map.MapSpec;
import dev.meshauth.bpf.map.MapType;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.ValueLayout;
import java.net.Inet4Address;
import java.nio.ByteOrder;
import java.nio.file.Path;
import java.util.Optional;

/**
 * Cilium's node map ({@code cilium_node_map_v2}), read-only: the node ids Cilium's datapath puts in
 * auth keys. Cilium's datapath looks up the peer's tunnel endpoint (its node IP) here and uses the id as
 * {@code remote_node_id}; each Cilium agent allocates its own ids, so meshauth's agent reads the map of
 * its own node.
 *
 * <p>Layout (bpf/lib/common.h): {@code struct node_key { __u16 pad1; __u8 pad2; __u8 family; union {
 * struct { __be32 ip4; __u32 pad4, pad5, pad6; }; union v6addr ip6; }; }} (20 bytes, family 1 = IPv4) and
 * {@code struct node_value { __u16 id; __u8 spi; __u8 pad; }} (4 bytes), a hash map with
 * {@code BPF_F_NO_PREALLOC}. A map pinned there with another layout is refused.
 */
public final class CiliumNodeMap implements AutoCloseable {
    /** Where Cilium pins it. */
    public static final Path DEFAULT_PIN_PATH = Path.of("/sys/fs/bpf/tc/globals/cilium_node_map_v2");
    /** {@code ENDPOINT_KEY_IPV4}. */
    public static final int FAMILY_IPV4 = 1;
    /** {@code struct node_key {u16 pad1; u8 pad2; u8 family; union {__be32 ip4; __be32 ip6[4];}}} (bpf/lib/node.h). */
    static final java.lang.foreign.StructLayout KEY = java.lang.foreign.MemoryLayout.structLayout(
            ValueLayout.JAVA_SHORT.withName("pad1"), ValueLayout.JAVA_BYTE.withName("pad2"),
            ValueLayout.JAVA_BYTE.withName("family"),
            java.lang.foreign.MemoryLayout.sequenceLayout(16, ValueLayout.JAVA_BYTE).withName("ip")).withName("node_key");
    /** {@code struct node_value {u16 id; u8 spi; u8 pad}} (Cilium 1.15+). */
    static final java.lang.foreign.StructLayout VALUE = java.lang.foreign.MemoryLayout.structLayout(
            ValueLayout.JAVA_SHORT.withName("id"), ValueLayout.JAVA_BYTE.withName("spi"), ValueLayout.JAVA_BYTE.withName("pad"))
            .withName("node_value");
    private static final long KEY_FAMILY = KEY.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("family"));
    private static final long KEY_IP = KEY.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("ip"));
    private static final long VALUE_ID = VALUE.byteOffset(java.lang.foreign.MemoryLayout.PathElement.groupElement("id"));
    /** The layout. */
    public static final MapSpec SPEC = MapSpec.of("cilium_node_map", MapType.HASH, (int) KEY.byteSize(),
            (int) VALUE.byteSize(), 16384, MapFlags.NO_PREALLOC);

    private final BpfMap map;

    private CiliumNodeMap(BpfMap map) {
        this.map = map;
    }

    /**
     * Opens the pinned map read-only.
     *
     * @throws BpfException if nothing is pinned there (is Cilium running?) or the layout is not Cilium's
     */
    public static CiliumNodeMap open(Path pin) throws BpfException {
        return new CiliumNodeMap(BpfMap.openPinned(pin.toAbsolutePath(), SPEC, true));
    }

    /** The id Cilium gave the node with IPv4 address {@code ip}, if any (0 is "none" in Cilium). */
    public Optional<Integer> nodeId(Inet4Address ip) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment key = arena.allocate(KEY);
            key.set(ValueLayout.JAVA_BYTE, KEY_FAMILY, (byte) FAMILY_IPV4);
            MemorySegment.copy(ip.getAddress(), 0, key, ValueLayout.JAVA_BYTE, KEY_IP, 4); // __be32: network order
            MemorySegment value = arena.allocate(VALUE);
            if (!map.lookup(key, value)) {
                return Optional.empty();
            }
            int id = Short.toUnsignedInt(value.get(ValueLayout.JAVA_SHORT.withOrder(ByteOrder.nativeOrder()), VALUE_ID));
            return id == 0 ? Optional.empty() : Optional.of(id);
        }
    }

    /** Where it is pinned. */
    public String location() {
        return map.pinPath().map(Path::toString).orElse(map.label());
    }

    @Override
    public void close() {
        map.close();
    }
}
