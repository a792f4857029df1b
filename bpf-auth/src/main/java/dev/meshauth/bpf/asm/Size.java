package dev.meshauth.bpf.asm;

/** Memory access width: the size bits of LDX/STX/ST opcodes. */
public enum Size {
    B(0x10, 1, "u8"), H(0x08, 2, "u16"), W(0x00, 4, "u32"), DW(0x18, 8, "u64");

    private final int bits;
    private final int bytes;
    private final String cType;

    Size(int bits, int bytes, String cType) {
        this.bits = bits;
        this.bytes = bytes;
        this.cType = cType;
    }

    int bits() {
        return bits;
    }

    /** Width in bytes. */
    public int bytes() {
        return bytes;
    }

    String cType() {
        return cType;
    }

    static Size ofBits(int sizeBits) {
        for (Size s : values()) {
            if (s.bits == sizeBits) {
                return s;
            }
        }
        throw new IllegalArgumentException("size bits 0x" + Integer.toHexString(sizeBits));
    }
}
