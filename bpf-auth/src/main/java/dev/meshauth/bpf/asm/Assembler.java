package dev.meshauth.bpf.asm;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * Builds an eBPF program instruction by instruction, in the spirit of cilium/ebpf's {@code asm}
 * package: named labels for forward and backward jumps, map references by name (resolved to fds at
 * load), helper calls by name.
 *
 * <pre>{@code
 * Program p = new Assembler()
 *     .ldMap(R1, "counters").mov(R2, R10).add(R2, -4).st(Size.W, R2, 0, 0)
 *     .call(Helper.MAP_LOOKUP_ELEM).jmp(JmpOp.JEQ, R0, 0, "out")
 *     .mov(R0, 0).label("out").exit()
 *     .build();
 * }</pre>
 */
public final class Assembler {
    private static final int CLASS_LD = 0x00;
    private static final int CLASS_LDX = 0x01;
    private static final int CLASS_ST = 0x02;
    private static final int CLASS_STX = 0x03;
    private static final int CLASS_ALU = 0x04;
    private static final int CLASS_JMP = 0x05;
    private static final int CLASS_JMP32 = 0x06;
    private static final int CLASS_ALU64 = 0x07;
    private static final int MODE_MEM = 0x60;
    private static final int SRC_K = 0x00;
    private static final int SRC_X = 0x08;

    private final List<Insn> insns = new ArrayList<>();
    private final Map<String, Integer> labels = new LinkedHashMap<>();

    /** Marks the next instruction with {@code name}, as a jump target. */
    public Assembler label(String name) {
        if (labels.putIfAbsent(name, insns.size()) != null) {
            throw new IllegalArgumentException("label defined twice: " + name);
        }
        return this;
    }

    private Assembler add(Insn insn) {
        insns.add(insn);
        return this;
    }

    /** {@code dst = imm} (64-bit, sign-extended 32-bit immediate). */
    public Assembler mov(Reg dst, int imm) {
        return alu(AluOp.MOV, dst, imm);
    }

    /** {@code dst = src} (64-bit). */
    public Assembler mov(Reg dst, Reg src) {
        return alu(AluOp.MOV, dst, src);
    }

    /** {@code dst += imm} (64-bit). */
    public Assembler add(Reg dst, int imm) {
        return alu(AluOp.ADD, dst, imm);
    }

    /** 64-bit ALU with an immediate: {@code dst op= imm}. */
    public Assembler alu(AluOp op, Reg dst, int imm) {
        return add(new Insn(CLASS_ALU64 | op.bits() | SRC_K, dst, Reg.R0, 0, imm, null, null));
    }

    /** 64-bit ALU with a register: {@code dst op= src}. */
    public Assembler alu(AluOp op, Reg dst, Reg src) {
        return add(new Insn(CLASS_ALU64 | op.bits() | SRC_X, dst, src, 0, 0, null, null));
    }

    /** 32-bit ALU with an immediate (the upper half of dst is zeroed). */
    public Assembler alu32(AluOp op, Reg dst, int imm) {
        return add(new Insn(CLASS_ALU | op.bits() | SRC_K, dst, Reg.R0, 0, imm, null, null));
    }

    /** 32-bit ALU with a register. */
    public Assembler alu32(AluOp op, Reg dst, Reg src) {
        return add(new Insn(CLASS_ALU | op.bits() | SRC_X, dst, src, 0, 0, null, null));
    }

    /** Converts {@code dst}'s low {@code bits} (16, 32, 64) from network (big-endian) to host order. */
    public Assembler fromBigEndian(Reg dst, int bits) {
        requireSwapWidth(bits);
        return add(new Insn(CLASS_ALU | AluOp.END.bits() | SRC_X, dst, Reg.R0, 0, bits, null, null));
    }

    /** Converts {@code dst}'s low {@code bits} to little-endian (truncates on little-endian hosts). */
    public Assembler toLittleEndian(Reg dst, int bits) {
        requireSwapWidth(bits);
        return add(new Insn(CLASS_ALU | AluOp.END.bits() | SRC_K, dst, Reg.R0, 0, bits, null, null));
    }

    private static void requireSwapWidth(int bits) {
        if (bits != 16 && bits != 32 && bits != 64) {
            throw new IllegalArgumentException("byte swap width must be 16, 32 or 64, got " + bits);
        }
    }

    /** {@code dst = *(size *)(src + off)}. */
    public Assembler ldx(Size size, Reg dst, Reg src, int off) {
        return add(new Insn(CLASS_LDX | MODE_MEM | size.bits(), dst, src, off, 0, null, null));
    }

    /** {@code *(size *)(dst + off) = src}. */
    public Assembler stx(Size size, Reg dst, int off, Reg src) {
        return add(new Insn(CLASS_STX | MODE_MEM | size.bits(), dst, src, off, 0, null, null));
    }

    /** {@code *(size *)(dst + off) = imm}. */
    public Assembler st(Size size, Reg dst, int off, int imm) {
        return add(new Insn(CLASS_ST | MODE_MEM | size.bits(), dst, Reg.R0, off, imm, null, null));
    }

    /** {@code dst = imm64} (LD_IMM64, two slots). */
    public Assembler ldImm64(Reg dst, long imm) {
        return add(new Insn(Insn.LD_IMM64, dst, Reg.R0, 0, imm, null, null));
    }

    /** {@code dst = &map} for the map named {@code mapName}; its fd is filled in at load. */
    public Assembler ldMap(Reg dst, String mapName) {
        return add(new Insn(Insn.LD_IMM64 | CLASS_LD, dst, Reg.of(Insn.PSEUDO_MAP_FD), 0, 0, null, mapName));
    }

    /** {@code if (dst op imm) goto label} (64-bit compare). */
    public Assembler jmp(JmpOp op, Reg dst, int imm, String label) {
        requireConditional(op);
        return add(new Insn(CLASS_JMP | op.bits() | SRC_K, dst, Reg.R0, 0, imm, label, null));
    }

    /** {@code if (dst op src) goto label} (64-bit compare). */
    public Assembler jmp(JmpOp op, Reg dst, Reg src, String label) {
        requireConditional(op);
        return add(new Insn(CLASS_JMP | op.bits() | SRC_X, dst, src, 0, 0, label, null));
    }

    /** {@code if ((u32) dst op imm) goto label} (32-bit compare). */
    public Assembler jmp32(JmpOp op, Reg dst, int imm, String label) {
        requireConditional(op);
        return add(new Insn(CLASS_JMP32 | op.bits() | SRC_K, dst, Reg.R0, 0, imm, label, null));
    }

    private static void requireConditional(JmpOp op) {
        if (op == JmpOp.JA || op == JmpOp.CALL || op == JmpOp.EXIT) {
            throw new IllegalArgumentException(op + " is not a conditional jump; use ja(), call(), exit()");
        }
    }

    /** {@code goto label}. */
    public Assembler ja(String label) {
        return add(new Insn(CLASS_JMP | JmpOp.JA.bits(), Reg.R0, Reg.R0, 0, 0, label, null));
    }

    /** Calls a kernel helper; arguments in R1-R5, result in R0, R1-R5 clobbered. */
    public Assembler call(Helper helper) {
        return add(new Insn(CLASS_JMP | JmpOp.CALL.bits(), Reg.R0, Reg.R0, 0, helper.id(), null, null));
    }

    /** Returns R0. */
    public Assembler exit() {
        return add(new Insn(CLASS_JMP | JmpOp.EXIT.bits(), Reg.R0, Reg.R0, 0, 0, null, null));
    }

    /**
     * Resolves labels into jump offsets (counted in slots from the next instruction; LD_IMM64 takes
     * two) and returns the finished program.
     *
     * @throws IllegalArgumentException for a jump to an undefined label, a label past the last
     *                                  instruction, or an offset beyond 16 bits
     */
    public Program build() {
        labels.forEach((name, index) -> {
            if (index >= insns.size()) {
                throw new IllegalArgumentException("label '" + name + "' is past the last instruction");
            }
        });
        int[] slotOf = new int[insns.size() + 1];
        for (int i = 0; i < insns.size(); i++) {
            slotOf[i + 1] = slotOf[i] + insns.get(i).slots();
        }
        List<Insn> out = new ArrayList<>(insns.size());
        for (int i = 0; i < insns.size(); i++) {
            Insn insn = insns.get(i);
            if (insn.jumpTarget() != null) {
                Integer target = labels.get(insn.jumpTarget());
                if (target == null) {
                    throw new IllegalArgumentException("jump at instruction " + i + " to undefined label '"
                            + insn.jumpTarget() + "'");
                }
                int off = slotOf[target] - slotOf[i] - 1;
                if (off < Short.MIN_VALUE || off > Short.MAX_VALUE) {
                    throw new IllegalArgumentException("jump to '" + insn.jumpTarget() + "' is too far: " + off);
                }
                insn = insn.withOff(off);
            }
            out.add(insn);
        }
        Map<Integer, String> labelAt = new LinkedHashMap<>();
        labels.forEach((name, index) -> labelAt.merge(index, name, (a, b) -> a + ", " + b));
        return new Program(List.copyOf(out), Map.copyOf(labelAt));
    }
}
