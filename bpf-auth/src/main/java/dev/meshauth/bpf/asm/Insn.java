package dev.meshauth.bpf.asm;

import java.util.Objects;

/**
 * One instruction before encoding: {@code struct bpf_insn} fields plus the symbolic parts resolved at
 * assembly (a jump's target label, a map's name for {@code BPF_PSEUDO_MAP_FD}).
 *
 * @param code       opcode byte
 * @param dst        destination register
 * @param src        source register (or the pseudo source for LD_IMM64)
 * @param off        signed 16-bit offset (memory offset, or jump offset once resolved)
 * @param imm        immediate; 64 bits for LD_IMM64, otherwise a signed 32-bit value
 * @param jumpTarget label this jump goes to, or null
 * @param mapName    map whose fd LD_IMM64 loads, or null
 */
public record Insn(int code, Reg dst, Reg src, int off, long imm, String jumpTarget, String mapName) {
    /** Opcode of the two-slot 64-bit immediate load. */
    public static final int LD_IMM64 = 0x18;
    /** {@code BPF_PSEUDO_MAP_FD}: LD_IMM64 whose immediate is a map fd, turned into a map pointer at load. */
    public static final int PSEUDO_MAP_FD = 1;

    /** Checks field ranges. */
    public Insn {
        Objects.requireNonNull(dst, "dst");
        Objects.requireNonNull(src, "src");
        if (code < 0 || code > 0xff) {
            throw new IllegalArgumentException("opcode out of range: " + code);
        }
        if (jumpTarget == null && (off < Short.MIN_VALUE || off > Short.MAX_VALUE)) {
            throw new IllegalArgumentException("offset out of 16-bit range: " + off);
        }
        if (code != LD_IMM64 && (imm < Integer.MIN_VALUE || imm > 0xFFFF_FFFFL)) {
            throw new IllegalArgumentException("immediate out of 32-bit range: " + imm);
        }
    }

    /** Instruction slots this occupies: 2 for LD_IMM64, else 1. */
    public int slots() {
        return code == LD_IMM64 ? 2 : 1;
    }

    /** The instruction class (low 3 bits). */
    public int opClass() {
        return code & 0x07;
    }

    Insn withOff(int newOff) {
        return new Insn(code, dst, src, newOff, imm, null, mapName);
    }

    Insn withImm(long newImm) {
        return new Insn(code, dst, src, off, newImm, jumpTarget, mapName);
    }
}
