package dev.meshauth.bpf.asm;

/** ALU operations (the op bits of ALU/ALU64 opcodes) with their C-like symbol for disassembly. */
public enum AluOp {
    ADD(0x00, "+="), SUB(0x10, "-="), MUL(0x20, "*="), DIV(0x30, "/="), OR(0x40, "|="), AND(0x50, "&="),
    LSH(0x60, "<<="), RSH(0x70, ">>="), NEG(0x80, "= -"), MOD(0x90, "%="), XOR(0xa0, "^="), MOV(0xb0, "="),
    ARSH(0xc0, "s>>="), END(0xd0, "endian");

    private final int bits;
    private final String symbol;

    AluOp(int bits, String symbol) {
        this.bits = bits;
        this.symbol = symbol;
    }

    int bits() {
        return bits;
    }

    String symbol() {
        return symbol;
    }

    static AluOp ofBits(int b) {
        for (AluOp op : values()) {
            if (op.bits == b) {
                return op;
            }
        }
        throw new IllegalArgumentException("alu op 0x" + Integer.toHexString(b));
    }
}
