package dev.meshauth.bpf.asm;

/** eBPF registers. R0 return value, R1-R5 arguments (clobbered by calls), R6-R9 callee-saved, R10 frame pointer. */
public enum Reg {
    R0(0), R1(1), R2(2), R3(3), R4(4), R5(5), R6(6), R7(7), R8(8), R9(9), R10(10);

    private final int number;

    Reg(int number) {
        this.number = number;
    }

    /** The register number in the instruction's 4-bit field. */
    public int number() {
        return number;
    }

    /** The register numbered {@code n}. */
    public static Reg of(int n) {
        for (Reg r : values()) {
            if (r.number == n) {
                return r;
            }
        }
        throw new IllegalArgumentException("no eBPF register r" + n);
    }
}
