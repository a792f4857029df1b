package dev.meshauth.bpf.asm;

/**
 * Prints a program the way the kernel's verifier log does ({@code r1 = *(u32 *)(r10 -8)}), with slot
 * numbers and labels, so a verifier complaint about instruction N can be read against our source.
 */
public final class Disassembler {
    private Disassembler() {
    }

    /** One line per instruction, labels on their own lines. */
    public static String disassemble(Program program) {
        StringBuilder sb = new StringBuilder();
        int slot = 0;
        for (int i = 0; i < program.insns().size(); i++) {
            String label = program.labelsAt().get(i);
            if (label != null) {
                sb.append(label).append(":\n");
            }
            Insn insn = program.insns().get(i);
            sb.append(String.format("%5d: (%02x) %s%n", slot, insn.code(), text(insn, slot, program)));
            slot += insn.slots();
        }
        return sb.toString();
    }

    static String text(Insn i, int slot, Program program) {
        String dst = reg(i.dst());
        String src = reg(i.src());
        int cls = i.opClass();
        switch (cls) {
            case 0x00 -> {
                if (i.mapName() != null) {
                    return dst + " = map[" + i.mapName() + "] ll";
                }
                return dst + " = 0x" + Long.toHexString(i.imm()) + " ll";
            }
            case 0x01 -> {
                return dst + " = *(" + Size.ofBits(i.code() & 0x18).cType() + " *)(" + src + " " + signed(i.off()) + ")";
            }
            case 0x02 -> {
                return "*(" + Size.ofBits(i.code() & 0x18).cType() + " *)(" + dst + " " + signed(i.off()) + ") = " + i.imm();
            }
            case 0x03 -> {
                return "*(" + Size.ofBits(i.code() & 0x18).cType() + " *)(" + dst + " " + signed(i.off()) + ") = " + src;
            }
            case 0x04, 0x07 -> {
                AluOp op = AluOp.ofBits(i.code() & 0xf0);
                boolean x = (i.code() & 0x08) != 0;
                String d = cls == 0x04 ? "w" + i.dst().number() : dst;
                String s = x ? (cls == 0x04 ? "w" + i.src().number() : src) : Long.toString(i.imm());
                if (op == AluOp.END) {
                    return dst + " = " + (x ? "be" : "le") + i.imm() + " " + dst;
                }
                if (op == AluOp.NEG) {
                    return d + " = -" + d;
                }
                return d + " " + op.symbol() + " " + s;
            }
            default -> {
                JmpOp op = JmpOp.ofBits(i.code() & 0xf0);
                if (op == JmpOp.CALL) {
                    return "call " + Helper.nameOf((int) i.imm()) + "#" + i.imm();
                }
                if (op == JmpOp.EXIT) {
                    return "exit";
                }
                String target = target(slot, i.off(), program);
                if (op == JmpOp.JA) {
                    return "goto pc" + signed(i.off()) + target;
                }
                boolean x = (i.code() & 0x08) != 0;
                String d = cls == 0x06 ? "w" + i.dst().number() : dst;
                return "if " + d + " " + op.symbol() + " " + (x ? src : Long.toString(i.imm())) + " goto pc"
                        + signed(i.off()) + target;
            }
        }
    }

    private static String target(int slot, int off, Program program) {
        int want = slot + 1 + off;
        int s = 0;
        for (int k = 0; k < program.insns().size(); k++) {
            if (s == want) {
                String label = program.labelsAt().get(k);
                return label == null ? "" : " <" + label + ">";
            }
            s += program.insns().get(k).slots();
        }
        return "";
    }

    private static String reg(Reg r) {
        return "r" + r.number();
    }

    private static String signed(int v) {
        return v < 0 ? Integer.toString(v) : "+" + v;
    }
}
