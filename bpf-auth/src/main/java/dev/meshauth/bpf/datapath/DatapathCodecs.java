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
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Kernel layouts of the datapath's own maps, and their codecs: the one definition of every offset.
 * {@link EnforcementProgram} reads its field offsets from these layouts with {@link #offset}.
 */
final class DatapathCodecs {
    private DatapathCodecs() {
    }

    private static final ValueLayout.OfShort BE_SHORT = JAVA_SHORT.withOrder(ByteOrder.BIG_ENDIAN);

    /** Address family bytes in keys (Cilium's ENDPOINT_KEY_IPV4/IPV6). */
    static final int FAMILY_IPV4 = 1;
    static final int FAMILY_IPV6 = 2;

    /**
     * {@code struct ipcache_key {u32 prefixlen; u8 family; u8 pad[3]; u8 addr[16]}}: an LPM trie key whose
     * prefix counts the family and pad bits (32) before the address bits; IPv4 in the first 4 bytes.
     */
    static final StructLayout IPCACHE_KEY = MemoryLayout.structLayout(
            JAVA_INT.withName("prefixlen"), JAVA_BYTE.withName("family"), MemoryLayout.sequenceLayout(3, JAVA_BYTE)
                    .withName("pad"), MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("addr")).withName("ipcache_key");
    /** Prefix bits of an ipcache key before the address. */
    static final int IPCACHE_PREFIX_BASE = 32;
    /** {@code struct ipcache_value {u32 sec_identity; u16 node_id; u16 pad}}. */
    static final StructLayout IPCACHE_VALUE = MemoryLayout.structLayout(
            JAVA_INT.withName("sec_identity"), JAVA_SHORT.withName("node_id"), JAVA_SHORT.withName("pad"))
            .withName("ipcache_value");
    /**
     * {@code struct policy_key {u32 prefixlen; u32 local_id; u32 remote_id; u8 dir; u8 proto; __be16 dport}}:
     * an LPM trie key (Cilium's policy map is one too): identities and direction always in the prefix,
     * then the protocol, then the port's leading bits.
     */
    static final StructLayout POLICY_KEY = MemoryLayout.structLayout(
            JAVA_INT.withName("prefixlen"), JAVA_INT.withName("local_id"), JAVA_INT.withName("remote_id"),
            JAVA_BYTE.withName("dir"), JAVA_BYTE.withName("proto"), BE_SHORT.withName("dport")).withName("policy_key");
    /** A policy key's full prefix: every bit after prefixlen. */
    static final int POLICY_FULL_PREFIX = 96;
    /** {@code struct policy_value {u8 deny; u8 auth_type; u16 pad}}. */
    static final StructLayout POLICY_VALUE = MemoryLayout.structLayout(
            JAVA_BYTE.withName("deny"), JAVA_BYTE.withName("auth_type"), JAVA_SHORT.withName("pad"))
            .withName("policy_value");
    /** {@code struct endpoint_key {u32 sec_identity}}. */
    static final StructLayout ENDPOINT_KEY = MemoryLayout.structLayout(JAVA_INT.withName("sec_identity"))
            .withName("endpoint_key");
    /** {@code struct endpoint_value {u32 flags}}: see {@link EndpointPolicy}. */
    static final StructLayout ENDPOINT_VALUE = MemoryLayout.structLayout(JAVA_INT.withName("flags"))
            .withName("endpoint_value");
    /**
     * {@code struct ct_key {u8 saddr[16]; u8 daddr[16]; __be16 sport; __be16 dport; u8 proto; u8 family; u16 pad}}:
     * a connection in the direction of its first packet (ICMP echo: the identifier as sport; its reply as
     * dport). The program keeps the packet's tuple on its stack in this layout.
     */
    static final StructLayout CT_KEY = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("saddr"),
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("daddr"),
            BE_SHORT.withName("sport"), BE_SHORT.withName("dport"), JAVA_BYTE.withName("proto"),
            JAVA_BYTE.withName("family"), JAVA_SHORT.withName("pad")).withName("ct_key");
    /** {@code struct ct_value {u64 expires_ns; u32 flags; u32 pad}}: ktime_get_ns deadline; {@link Conntrack} flags. */
    static final StructLayout CT_VALUE = MemoryLayout.structLayout(
            JAVA_LONG.withName("expires_ns"), JAVA_INT.withName("flags"), JAVA_INT.withName("pad")).withName("ct_value");
    /** {@code struct frag_key {u8 saddr[16]; u8 daddr[16]; u32 id; u8 proto; u8 family; u16 pad}} (Cilium's frag map). */
    static final StructLayout FRAG_KEY = MemoryLayout.structLayout(
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("saddr"),
            MemoryLayout.sequenceLayout(16, JAVA_BYTE).withName("daddr"),
            JAVA_INT.withName("id"), JAVA_BYTE.withName("proto"), JAVA_BYTE.withName("family"),
            JAVA_SHORT.withName("pad")).withName("frag_key");
    /** {@code struct frag_value {__be16 sport; __be16 dport; u16 policy_port; u16 pad}}: the first fragment's ports. */
    static final StructLayout FRAG_VALUE = MemoryLayout.structLayout(
            BE_SHORT.withName("sport"), BE_SHORT.withName("dport"), JAVA_SHORT.withName("policy_port"),
            JAVA_SHORT.withName("pad")).withName("frag_value");
    /** Cilium's {@code struct signal_msg} for an auth signal: {@code {u32 signal_nr; struct auth_key}}. */
    static final StructLayout SIGNAL_MSG = MemoryLayout.structLayout(
            JAVA_INT.withName("signal_nr"), AuthMapLayout.KEY.withName("auth")).withName("signal_msg");

    /** Bytes of a held SYN's frame the record carries (a SYN longer than this is not held). */
    static final int HELD_CAPTURE = 256;
    /**
     * meshauth's held-SYN record: {@code {u32 signal_nr; struct auth_key; u32 role; u32 len; u32 ifindex;
     * u32 pad; u8 frame[HELD_CAPTURE]}}, {@code len} bytes of the frame from its Ethernet header on.
     */
    static final StructLayout HELD_SYN = MemoryLayout.structLayout(
            JAVA_INT.withName("signal_nr"), AuthMapLayout.KEY.withName("auth"), JAVA_INT.withName("role"),
            JAVA_INT.withName("len"), JAVA_INT.withName("ifindex"), JAVA_INT.withName("pad"),
            MemoryLayout.sequenceLayout(HELD_CAPTURE, JAVA_BYTE).withName("frame")).withName("held_syn");

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
    private static final VarHandle FAMILY = field(IPCACHE_KEY, "family");
    private static final long ADDR = offset(IPCACHE_KEY, "addr");
    private static final VarHandle SEC_IDENTITY = field(IPCACHE_VALUE, "sec_identity");
    private static final VarHandle NODE_ID = field(IPCACHE_VALUE, "node_id");
    private static final VarHandle IPC_PAD = field(IPCACHE_VALUE, "pad");
    private static final VarHandle PK_PREFIXLEN = field(POLICY_KEY, "prefixlen");
    private static final VarHandle LOCAL_ID = field(POLICY_KEY, "local_id");
    private static final VarHandle REMOTE_ID = field(POLICY_KEY, "remote_id");
    private static final VarHandle DIR = field(POLICY_KEY, "dir");
    private static final VarHandle PROTO = field(POLICY_KEY, "proto");
    private static final VarHandle DPORT = field(POLICY_KEY, "dport");
    private static final VarHandle DENY = field(POLICY_VALUE, "deny");
    private static final VarHandle AUTH_TYPE = field(POLICY_VALUE, "auth_type");
    private static final VarHandle POL_PAD = field(POLICY_VALUE, "pad");

    static final Codec<IpPrefix> PREFIX = new Codec<>() {
        @Override
        public int size() {
            return (int) IPCACHE_KEY.byteSize();
        }

        @Override
        public void encode(IpPrefix p, MemorySegment dst, long off) {
            dst.asSlice(off, size()).fill((byte) 0);
            PREFIXLEN.set(dst, off, IPCACHE_PREFIX_BASE + p.length());
            FAMILY.set(dst, off, (byte) (p.ipv6() ? FAMILY_IPV6 : FAMILY_IPV4));
            MemorySegment.copy(p.address(), 0, dst, JAVA_BYTE, off + ADDR, p.ipv6() ? 16 : 4);
        }

        @Override
        public IpPrefix decode(MemorySegment src, long off) {
            boolean v6 = (byte) FAMILY.get(src, off) == FAMILY_IPV6;
            byte[] a = new byte[v6 ? 16 : 4];
            MemorySegment.copy(src, JAVA_BYTE, off + ADDR, a, 0, a.length);
            return new IpPrefix(a, (int) PREFIXLEN.get(src, off) - IPCACHE_PREFIX_BASE);
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
            PK_PREFIXLEN.set(dst, off, k.lpmPrefixLen());
            LOCAL_ID.set(dst, off, (int) k.localIdentity());
            REMOTE_ID.set(dst, off, (int) k.remoteIdentity());
            DIR.set(dst, off, (byte) k.direction().wire());
            PROTO.set(dst, off, (byte) k.protocol());
            DPORT.set(dst, off, (short) k.port());
        }

        @Override
        public PolicyKey decode(MemorySegment src, long off) {
            int prefix = (int) PK_PREFIXLEN.get(src, off);
            int proto = Byte.toUnsignedInt((byte) PROTO.get(src, off));
            return new PolicyKey(Integer.toUnsignedLong((int) LOCAL_ID.get(src, off)),
                    Integer.toUnsignedLong((int) REMOTE_ID.get(src, off)), prefix <= 72 ? 0 : proto,
                    prefix <= 72 ? 0 : Short.toUnsignedInt((short) DPORT.get(src, off)), Math.max(0, prefix - 80),
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
