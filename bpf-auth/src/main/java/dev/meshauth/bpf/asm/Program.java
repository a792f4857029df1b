package dev.meshauth.bpf.asm;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteOrder;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * An assembled program: instructions with resolved jumps, the labels (for disassembly) and the maps it
 * references by name.
 *
 * @param insns    instructions in order
 * @param labelsAt label names by instruction index
 */
public record Program(List<Insn> insns, Map<Integer, String> labelsAt) {

    /** Instruction slots (LD_IMM64 counts two), the kernel's {@code insn_cnt}. */
    public int slotCount() {
        return insns.stream().mapToInt(Insn::slots).sum();
    }

    /** Names of the maps this program loads by {@code ldMap}, in order of first use. */
    public Set<String> mapNames() {
        Set<String> names = new LinkedHashSet<>();
        for (Insn i : insns) {
            if (i.mapName() != null) {
                names.add(i.mapName());
            }
        }
        return names;
    }

    /**
     * Encodes {@code struct bpf_insn}s (little-endian layout: dst in the low nibble of byte 1) with each
     * map reference replaced by its fd.
     *
     * @throws IllegalArgumentException if a referenced map has no fd
     */
    public long[] encode(Map<String, Integer> mapFds) {
        if (ByteOrder.nativeOrder() != ByteOrder.LITTLE_ENDIAN) {
            throw new UnsupportedOperationException("big-endian hosts are not supported");
        }
        long[] out = new long[slotCount()];
        int slot = 0;
        for (Insn i : insns) {
            long imm = i.imm();
            if (i.mapName() != null) {
                Integer fd = mapFds.get(i.mapName());
                if (fd == null) {
                    throw new IllegalArgumentException("program references map '" + i.mapName()
                            + "' but no fd was given for it (have " + mapFds.keySet() + ")");
                }
                imm = fd;
            }
            out[slot++] = word(i.code(), i.dst(), i.src(), i.off(), (int) imm);
            if (i.slots() == 2) {
                out[slot++] = word(0, Reg.R0, Reg.R0, 0, (int) (imm >>> 32));
            }
        }
        return out;
    }

    static long word(int code, Reg dst, Reg src, int off, int imm) {
        int regs = (src.number() << 4) | dst.number();
        return (code & 0xffL) | (long) regs << 8 | (off & 0xffffL) << 16 | (imm & 0xffff_ffffL) << 32;
    }

    /** The encoded program in native memory, for {@code BPF_PROG_LOAD}. */
    public MemorySegment toSegment(Arena arena, Map<String, Integer> mapFds) {
        long[] words = encode(mapFds);
        MemorySegment seg = arena.allocate(8L * words.length, 8);
        for (int k = 0; k < words.length; k++) {
            seg.setAtIndex(JAVA_LONG, k, words[k]);
        }
        return seg;
    }

    /** Readable text, one instruction per line with its slot number; used in load errors. */
    @Override
    public String toString() {
        return Disassembler.disassemble(this);
    }
}
