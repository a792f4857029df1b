package dev.meshauth.bpf.asm;

/** eBPF registers. R0 return value, R1-R5 arguments (clobbered by calls), R6-R9 callee-saved, R10 frame pointer. */
public enum Reg {
    R0, R1, R2, R3, R4, R5, R6, R7, R8, R9, R10;

    /** The register number in the instruction's 4-bit field. */
    public int number() {
        return ordinal();
    }
}
