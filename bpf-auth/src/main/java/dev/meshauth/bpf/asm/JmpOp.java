package dev.meshauth.bpf.asm;

/** Jump operations (the op bits of JMP/JMP32 opcodes) with their C-like symbol for disassembly. */
public enum JmpOp {
    JA(0x00, "goto"), JEQ(0x10, "=="), JGT(0x20, ">"), JGE(0x30, ">="), JSET(0x40, "&"), JNE(0x50, "!="),
    JSGT(0x60, "s>"), JSGE(0x70, "s>="), CALL(0x80, "call"), EXIT(0x90, "exit"), JLT(0xa0, "<"),
    JLE(0xb0, "<="), JSLT(0xc0, "s<"), JSLE(0xd0, "s<=");

    private final int bits;
    private final String symbol;

    JmpOp(int bits, String symbol) {
        this.bits = bits;
        this.symbol = symbol;
    }

    int bits() {
        return bits;
    }

    String symbol() {
        return symbol;
    }

    static JmpOp ofBits(int b) {
        for (JmpOp op : values()) {
            if (op.bits == b) {
                return op;
            }
        }
        throw new IllegalArgumentException("jmp op 0x" + Integer.toHexString(b));
    }
}
