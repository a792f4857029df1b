package dev.meshauth.bpf.datapath;

import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.map.Codec;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/** Kernel layouts of the datapath's own maps, and their codecs. Offsets match {@link EnforcementProgram}. */
final class DatapathCodecs {
    private DatapathCodecs() {
    }

    /** {@code struct ipcache_key {u32 prefixlen; u32 addr (network order)}}: bpf_lpm_trie_key layout. */
    static final StructLayout IPCACHE_KEY = MemoryLayout.structLayout(
            JAVA_INT.withName("prefixlen"), JAVA_INT.withName("addr")).withName("ipcache_key");
    /** {@code struct ipcache_value {u32 sec_identity; u16 node_id; u16 pad}}. */
    static final StructLayout IPCACHE_VALUE = MemoryLayout.structLayout(
            JAVA_INT.withName("sec_identity"), JAVA_SHORT.withName("node_id"), JAVA_SHORT.withName("pad"))
            .withName("ipcache_value");
    /** {@code struct policy_key {u32 local; u32 remote; u16 dport; u8 proto; u8 dir}}. */
    static final StructLayout POLICY_KEY = MemoryLayout.structLayout(
            JAVA_INT.withName("local_id"), JAVA_INT.withName("remote_id"), JAVA_SHORT.withName("dport"),
            JAVA_BYTE.withName("proto"), JAVA_BYTE.withName("dir")).withName("policy_key");
    /** {@code struct policy_value {u8 deny; u8 auth_type; u16 pad}}. */
    static final StructLayout POLICY_VALUE = MemoryLayout.structLayout(
            JAVA_BYTE.withName("deny"), JAVA_BYTE.withName("auth_type"), JAVA_SHORT.withName("pad"))
            .withName("policy_value");
    /** {@code struct endpoint_key {u32 sec_identity}}. */
    static final StructLayout ENDPOINT_KEY = MemoryLayout.structLayout(JAVA_INT.withName("sec_identity"))
            .withName("endpoint_key");
    /** {@code struct endpoint_value {u32 flags}}: bit 0, ingress policy enforced. */
    static final StructLayout ENDPOINT_VALUE = MemoryLayout.structLayout(JAVA_INT.withName("flags"))
            .withName("endpoint_value");

    private static final ValueLayout.OfInt BE_INT = JAVA_INT.withOrder(java.nio.ByteOrder.BIG_ENDIAN);

    static final Codec<Ipv4Prefix> PREFIX = new Codec<>() {
        @Override
        public int size() {
            return 8;
        }

        @Override
        public void encode(Ipv4Prefix p, MemorySegment dst, long off) {
            dst.set(JAVA_INT, off, p.length());
            dst.set(BE_INT, off + 4, p.address());
        }

        @Override
        public Ipv4Prefix decode(MemorySegment src, long off) {
            return new Ipv4Prefix(src.get(BE_INT, off + 4), src.get(JAVA_INT, off));
        }
    };

    static final Codec<IpcacheEntry> IPCACHE = new Codec<>() {
        @Override
        public int size() {
            return 8;
        }

        @Override
        public void encode(IpcacheEntry e, MemorySegment dst, long off) {
            dst.set(JAVA_INT, off, (int) e.identity());
            dst.set(JAVA_SHORT, off + 4, (short) e.nodeId());
            dst.set(JAVA_SHORT, off + 6, (short) 0);
        }

        @Override
        public IpcacheEntry decode(MemorySegment src, long off) {
            return new IpcacheEntry(Integer.toUnsignedLong(src.get(JAVA_INT, off)),
                    Short.toUnsignedInt(src.get(JAVA_SHORT, off + 4)));
        }
    };

    static final Codec<PolicyKey> POLICY = new Codec<>() {
        @Override
        public int size() {
            return 12;
        }

        @Override
        public void encode(PolicyKey k, MemorySegment dst, long off) {
            dst.set(JAVA_INT, off, (int) k.localIdentity());
            dst.set(JAVA_INT, off + 4, (int) k.remoteIdentity());
            dst.set(JAVA_SHORT, off + 8, (short) k.port());
            dst.set(JAVA_BYTE, off + 10, (byte) k.protocol());
            dst.set(JAVA_BYTE, off + 11, (byte) k.direction().ordinal());
        }

        @Override
        public PolicyKey decode(MemorySegment src, long off) {
            return new PolicyKey(Integer.toUnsignedLong(src.get(JAVA_INT, off)),
                    Integer.toUnsignedLong(src.get(JAVA_INT, off + 4)), Short.toUnsignedInt(src.get(JAVA_SHORT, off + 8)),
                    Byte.toUnsignedInt(src.get(JAVA_BYTE, off + 10)),
                    Direction.values()[src.get(JAVA_BYTE, off + 11)]);
        }
    };

    static final Codec<PolicyVerdict> VERDICT = new Codec<>() {
        @Override
        public int size() {
            return 4;
        }

        @Override
        public void encode(PolicyVerdict v, MemorySegment dst, long off) {
            dst.set(JAVA_BYTE, off, (byte) (v.deny() ? 1 : 0));
            dst.set(JAVA_BYTE, off + 1, (byte) v.authType().code());
            dst.set(JAVA_SHORT, off + 2, (short) 0);
        }

        @Override
        public PolicyVerdict decode(MemorySegment src, long off) {
            return new PolicyVerdict(src.get(JAVA_BYTE, off) != 0,
                    new AuthType(Byte.toUnsignedInt(src.get(JAVA_BYTE, off + 1))));
        }
    };
}
