package dev.meshauth.bpf.datapath;

import dev.meshauth.bpf.auth.AuthMapLayout;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.map.Codec;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.VarHandle;
import java.nio.ByteOrder;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Kernel layouts of the datapath's own maps, and their codecs: the one definition of every offset.
 * {@link EnforcementProgram} reads its field offsets from these layouts with {@link #offset}.
 */
final class DatapathCodecs {
    private DatapathCodecs() {
    }

    private static final ValueLayout.OfInt BE_INT = JAVA_INT.withOrder(ByteOrder.BIG_ENDIAN);

    /** {@code struct ipcache_key {u32 prefixlen; __be32 addr}}: bpf_lpm_trie_key layout. */
    static final StructLayout IPCACHE_KEY = MemoryLayout.structLayout(
            JAVA_INT.withName("prefixlen"), BE_INT.withName("addr")).withName("ipcache_key");
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
    /** Cilium's {@code struct signal_msg} for an auth signal: {@code {u32 signal_nr; struct auth_key}}. */
    static final StructLayout SIGNAL_MSG = MemoryLayout.structLayout(
            JAVA_INT.withName("signal_nr"), AuthMapLayout.KEY.withName("auth")).withName("signal_msg");

    /** Byte offset of {@code field} in {@code layout}. */
    static int offset(StructLayout layout, String field) {
        return (int) layout.byteOffset(MemoryLayout.PathElement.groupElement(field));
    }

    /** Byte offset of {@code inner} inside the struct field {@code outer} of {@code layout}. */
    static int offset(StructLayout layout, String outer, String inner) {
        return (int) layout.byteOffset(MemoryLayout.PathElement.groupElement(outer),
                MemoryLayout.PathElement.groupElement(inner));
    }

    private static VarHandle field(StructLayout layout, String name) {
        return layout.varHandle(MemoryLayout.PathElement.groupElement(name));
    }

    private static final VarHandle PREFIXLEN = field(IPCACHE_KEY, "prefixlen");
    private static final VarHandle ADDR = field(IPCACHE_KEY, "addr");
    private static final VarHandle SEC_IDENTITY = field(IPCACHE_VALUE, "sec_identity");
    private static final VarHandle NODE_ID = field(IPCACHE_VALUE, "node_id");
    private static final VarHandle IPC_PAD = field(IPCACHE_VALUE, "pad");
    private static final VarHandle LOCAL_ID = field(POLICY_KEY, "local_id");
    private static final VarHandle REMOTE_ID = field(POLICY_KEY, "remote_id");
    private static final VarHandle DPORT = field(POLICY_KEY, "dport");
    private static final VarHandle PROTO = field(POLICY_KEY, "proto");
    private static final VarHandle DIR = field(POLICY_KEY, "dir");
    private static final VarHandle DENY = field(POLICY_VALUE, "deny");
    private static final VarHandle AUTH_TYPE = field(POLICY_VALUE, "auth_type");
    private static final VarHandle POL_PAD = field(POLICY_VALUE, "pad");

    static final Codec<Ipv4Prefix> PREFIX = new Codec<>() {
        @Override
        public int size() {
            return (int) IPCACHE_KEY.byteSize();
        }

        @Override
        public void encode(Ipv4Prefix p, MemorySegment dst, long off) {
            PREFIXLEN.set(dst, off, p.length());
            ADDR.set(dst, off, p.address());
        }

        @Override
        public Ipv4Prefix decode(MemorySegment src, long off) {
            return new Ipv4Prefix((int) ADDR.get(src, off), (int) PREFIXLEN.get(src, off));
        }
    };

    static final Codec<IpcacheEntry> IPCACHE = new Codec<>() {
        @Override
        public int size() {
            return (int) IPCACHE_VALUE.byteSize();
        }

        @Override
        public void encode(IpcacheEntry e, MemorySegment dst, long off) {
            SEC_IDENTITY.set(dst, off, (int) e.identity());
            NODE_ID.set(dst, off, (short) e.nodeId());
            IPC_PAD.set(dst, off, (short) 0);
        }

        @Override
        public IpcacheEntry decode(MemorySegment src, long off) {
            return new IpcacheEntry(Integer.toUnsignedLong((int) SEC_IDENTITY.get(src, off)),
                    Short.toUnsignedInt((short) NODE_ID.get(src, off)));
        }
    };

    static final Codec<PolicyKey> POLICY = new Codec<>() {
        @Override
        public int size() {
            return (int) POLICY_KEY.byteSize();
        }

        @Override
        public void encode(PolicyKey k, MemorySegment dst, long off) {
            LOCAL_ID.set(dst, off, (int) k.localIdentity());
            REMOTE_ID.set(dst, off, (int) k.remoteIdentity());
            DPORT.set(dst, off, (short) k.port());
            PROTO.set(dst, off, (byte) k.protocol());
            DIR.set(dst, off, (byte) k.direction().wire());
        }

        @Override
        public PolicyKey decode(MemorySegment src, long off) {
            return new PolicyKey(Integer.toUnsignedLong((int) LOCAL_ID.get(src, off)),
                    Integer.toUnsignedLong((int) REMOTE_ID.get(src, off)), Short.toUnsignedInt((short) DPORT.get(src, off)),
                    Byte.toUnsignedInt((byte) PROTO.get(src, off)),
                    Direction.fromWire(Byte.toUnsignedInt((byte) DIR.get(src, off))));
        }
    };

    static final Codec<PolicyVerdict> VERDICT = new Codec<>() {
        @Override
        public int size() {
            return (int) POLICY_VALUE.byteSize();
        }

        @Override
        public void encode(PolicyVerdict v, MemorySegment dst, long off) {
            DENY.set(dst, off, (byte) (v.deny() ? 1 : 0));
            AUTH_TYPE.set(dst, off, (byte) v.authType().code());
            POL_PAD.set(dst, off, (short) 0);
        }

        @Override
        public PolicyVerdict decode(MemorySegment src, long off) {
            return new PolicyVerdict((byte) DENY.get(src, off) != 0,
                    new AuthType(Byte.toUnsignedInt((byte) AUTH_TYPE.get(src, off))));
        }
    };
}
