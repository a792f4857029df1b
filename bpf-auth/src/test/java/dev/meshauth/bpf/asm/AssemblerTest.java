package dev.meshauth.bpf.asm;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.util.Map;
import java.util.function.UnaryOperator;
import java.util.stream.Stream;

import static dev.meshauth.bpf.asm.Reg.R0;
import static dev.meshauth.bpf.asm.Reg.R1;
import static dev.meshauth.bpf.asm.Reg.R10;
import static dev.meshauth.bpf.asm.Reg.R2;
import static dev.meshauth.bpf.asm.Reg.R6;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Encodings checked against the bytes in the kernel's documentation (Documentation/bpf/standardization/
 * instruction-set.rst) and the reference's opcode table: byte 0 opcode, byte 1 (src << 4 | dst),
 * bytes 2-3 offset, bytes 4-7 immediate, little-endian.
 */
class AssemblerTest {

    static Stream<Arguments> encodings() {
        return Stream.<Arguments>of(
                row("mov64 r1, 42", a -> a.mov(R1, 42), 0x000000_2a_0000_01_b7L, "r1 = 42"),
                row("mov64 r6, r1", a -> a.mov(R6, R1), 0x00000000_0000_16_bfL, "r6 = r1"),
                row("add64 r2, -4", a -> a.add(R2, -4), 0xfffffffc_0000_02_07L, "r2 += -4"),
                row("and32 r1, 0xff", a -> a.alu32(AluOp.AND, R1, 0xff), 0x000000ff_0000_01_54L, "w1 &= 255"),
                row("rsh64 r1, r2", a -> a.alu(AluOp.RSH, R1, R2), 0x00000000_0000_21_7fL, "r1 >>= r2"),
                row("be16 r1", a -> a.fromBigEndian(R1, 16), 0x00000010_0000_01_dcL, "r1 = be16 r1"),
                row("ldxw r0, [r10-8]", a -> a.ldx(Size.W, R0, R10, -8), 0x00000000_fff8_a0_61L, "r0 = *(u32 *)(r10 -8)"),
                row("ldxdw r1, [r6+16]", a -> a.ldx(Size.DW, R1, R6, 16), 0x00000000_0010_61_79L, "r1 = *(u64 *)(r6 +16)"),
                row("stxh [r10-2], r1", a -> a.stx(Size.H, R10, -2, R1), 0x00000000_fffe_1a_6bL, "*(u16 *)(r10 -2) = r1"),
                row("stb [r10-1], 7", a -> a.st(Size.B, R10, -1, 7), 0x00000007_ffff_0a_72L, "*(u8 *)(r10 -1) = 7"),
                row("call map_lookup_elem", a -> a.call(Helper.MAP_LOOKUP_ELEM), 0x00000001_0000_00_85L,
                        "call bpf_map_lookup_elem#1"),
                row("exit", Assembler::exit, 0x00000000_0000_00_95L, "exit"),
                row("jmp32 jne w1, 4, +0", a -> a.jmp32(JmpOp.JNE, R1, 4, "next").label("next").exit(),
                        0x00000004_0000_01_56L, "if w1 != 4 goto pc+0 <next>"),
                row("jlt r1, r2, +0", a -> a.jmp(JmpOp.JLT, R1, R2, "next").label("next").exit(),
                        0x00000000_0000_21_adL, "if r1 < r2 goto pc+0 <next>"));
    }

    private static Arguments row(String name, UnaryOperator<Assembler> emit, long word, String text) {
        return Arguments.of(name, emit, word, text);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("encodings")
    void encodesEachInstructionClass(String name, UnaryOperator<Assembler> emit, long word, String text) {
        Program p = emit.apply(new Assembler()).build();
        assertThat(p.encode(Map.of())[0]).isEqualTo(word);
        assertThat(Disassembler.text(p.insns().getFirst(), 0, p)).isEqualTo(text);
    }

    @Test
    void ldImm64TakesTwoSlotsWithTheHighHalfInTheSecond() {
        Program p = new Assembler().ldImm64(R1, 0x1122334455667788L).exit().build();
        assertThat(p.slotCount()).isEqualTo(3);
        assertThat(p.encode(Map.of())).containsExactly(
                0x55667788_0000_01_18L, // code 0x18, dst r1, imm low 32
                0x11223344_0000_00_00L, // second slot: imm high 32
                0x00000000_0000_00_95L);
    }

    @Test
    void mapReferenceBecomesPseudoMapFdWithTheFdAtLoad() {
        Program p = new Assembler().ldMap(R1, "auth").exit().build();
        assertThat(p.mapNames()).containsExactly("auth");
        assertThat(p.encode(Map.of("auth", 7))).containsExactly(0x00000007_0000_11_18L, 0L, 0x95L);
        assertThatThrownBy(() -> p.encode(Map.of()))
                .hasMessageContaining("references map 'auth' but no fd was given");
        assertThat(p.toString()).contains("r1 = map[auth] ll");
    }

    @Test
    void forwardAndBackwardJumpsCountSlotsFromTheNextInstruction() {
        Program p = new Assembler()
                .label("top")
                .mov(R0, 0)                              // slot 0
                .jmp(JmpOp.JEQ, R1, 0, "out")            // slot 1 -> slot 5: off +3
                .ldImm64(R2, 1)                          // slots 2-3
                .ja("top")                               // slot 4 -> slot 0: off -5
                .label("out")
                .exit()                                  // slot 5
                .build();
        long[] w = p.encode(Map.of());
        assertThat((short) (w[1] >>> 16)).isEqualTo((short) 3);
        assertThat(w[1] & 0xff).isEqualTo(0x15); // jeq imm
        assertThat((short) (w[4] >>> 16)).isEqualTo((short) -5);
        assertThat(p.toString()).contains("if r1 == 0 goto pc+3 <out>").contains("goto pc-5 <top>").contains("top:\n");
    }

    @Test
    void undefinedOrDuplicateLabelsAreRefused() {
        assertThatThrownBy(() -> new Assembler().ja("nowhere").exit().build())
                .hasMessageContaining("undefined label 'nowhere'");
        assertThatThrownBy(() -> new Assembler().label("a").label("a"))
                .hasMessageContaining("label defined twice: a");
        assertThatThrownBy(() -> new Assembler().exit().label("end").build())
                .hasMessageContaining("past the last instruction");
        assertThatThrownBy(() -> new Assembler().jmp(JmpOp.CALL, R0, 0, "x"))
                .hasMessageContaining("not a conditional jump");
    }
}
