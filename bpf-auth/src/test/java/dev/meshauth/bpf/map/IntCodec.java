package dev.meshauth.bpf.map;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/** Test codecs: u32 keys, u64 values (the shared ones), and an IPv4 LPM trie key {u32 prefixlen; u8 addr[4]}. */
final class IntCodec {
    private IntCodec() {
    }

    static final Codec<Integer> U32 = Codecs.U32;
    static final Codec<Long> U64 = Codecs.U64;

    /** An IPv4 prefix: address as 4 bytes in network order, prefix length 0..32. */
    record Prefix(int prefixLen, byte[] addr) {
        static Prefix of(int a, int b, int c, int d, int len) {
            return new Prefix(len, new byte[] {(byte) a, (byte) b, (byte) c, (byte) d});
        }

        @Override
        public boolean equals(Object o) {
            return o instanceof Prefix p && p.prefixLen == prefixLen && java.util.Arrays.equals(p.addr, addr);
        }

        @Override
        public int hashCode() {
            return prefixLen * 31 + java.util.Arrays.hashCode(addr);
        }
    }

    static final Codec<Prefix> LPM_V4 = new Codec<>() {
        @Override
        public int size() {
            return 8;
        }

        @Override
        public void encode(Prefix p, MemorySegment dst, long off) {
            dst.set(JAVA_INT, off, p.prefixLen());
            for (int i = 0; i < 4; i++) {
                dst.set(JAVA_BYTE, off + 4 + i, p.addr()[i]);
            }
        }

        @Override
        public Prefix decode(MemorySegment src, long off) {
            byte[] a = new byte[4];
            for (int i = 0; i < 4; i++) {
                a[i] = src.get(JAVA_BYTE, off + 4 + i);
            }
            return new Prefix(src.get(JAVA_INT, off), a);
        }
    };
}
