package dev.meshauth.bpf.map;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/** Codecs for plain integer keys and values (native byte order). */
public final class Codecs {
    private Codecs() {
    }

    /** A u32, as a Java int (bit pattern preserved). */
    public static final Codec<Integer> U32 = new Codec<>() {
        @Override
        public int size() {
            return 4;
        }

        @Override
        public void encode(Integer v, MemorySegment dst, long off) {
            dst.set(JAVA_INT.withByteAlignment(1), off, v);
        }

        @Override
        public Integer decode(MemorySegment src, long off) {
            return src.get(JAVA_INT.withByteAlignment(1), off);
        }
    };

    /** A u64, as a Java long (bit pattern preserved). */
    public static final Codec<Long> U64 = new Codec<>() {
        @Override
        public int size() {
            return 8;
        }

        @Override
        public void encode(Long v, MemorySegment dst, long off) {
            dst.set(JAVA_LONG.withByteAlignment(1), off, v);
        }

        @Override
        public Long decode(MemorySegment src, long off) {
            return src.get(JAVA_LONG.withByteAlignment(1), off);
        }
    };

    /** Raw bytes of a fixed size (a key or value read as it is, e.g. to count or delete entries). */
    public static Codec<byte[]> bytes(int size) {
        return new Codec<>() {
            @Override
            public int size() {
                return size;
            }

            @Override
            public void encode(byte[] v, java.lang.foreign.MemorySegment dst, long off) {
                java.lang.foreign.MemorySegment.copy(v, 0, dst, java.lang.foreign.ValueLayout.JAVA_BYTE, off, size);
            }

            @Override
            public byte[] decode(java.lang.foreign.MemorySegment src, long off) {
                byte[] out = new byte[size];
                java.lang.foreign.MemorySegment.copy(src, java.lang.foreign.ValueLayout.JAVA_BYTE, off, out, 0, size);
                return out;
            }
        };
    }
}
