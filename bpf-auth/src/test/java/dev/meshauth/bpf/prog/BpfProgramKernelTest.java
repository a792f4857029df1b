package dev.meshauth.bpf.prog;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.asm.Assembler;
import dev.meshauth.bpf.asm.Helper;
import dev.meshauth.bpf.asm.JmpOp;
import dev.meshauth.bpf.asm.Program;
import dev.meshauth.bpf.asm.Size;
import dev.meshauth.bpf.map.BpfMap;
import dev.meshauth.bpf.map.MapSpec;
import dev.meshauth.bpf.map.MapType;
import dev.meshauth.bpf.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;

import static dev.meshauth.bpf.asm.Reg.R0;
import static dev.meshauth.bpf.asm.Reg.R1;
import static dev.meshauth.bpf.asm.Reg.R10;
import static dev.meshauth.bpf.asm.Reg.R2;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Loading assembled programs into the real verifier, and running them with PROG_TEST_RUN. */
@KernelTest
class BpfProgramKernelTest {
    private static final byte[] FRAME = new byte[64];

    @Test
    void loadsAndRunsAProgram() throws Exception {
        Program p = new Assembler().mov(R0, 2).exit().build();
        try (BpfProgram prog = BpfProgram.load("drop_all", ProgramType.SCHED_CLS, p, Map.of())) {
            TestRunResult r = prog.testRun(FRAME, 10);
            assertThat(r.retval()).isEqualTo(2);
            assertThat(r.dataOut()).hasSize(64);
        }
    }

    @Test
    void programUsesAMapThroughItsFd() throws Exception {
        // counters[0] += 1 per run; returns the old value's presence.
        Program p = new Assembler()
                .st(Size.W, R10, -4, 0)
                .ldMap(R1, "counters").mov(R2, R10).add(R2, -4)
                .call(Helper.MAP_LOOKUP_ELEM)
                .jmp(JmpOp.JEQ, R0, 0, "out")
                .ldx(Size.DW, R1, R0, 0).add(R1, 1).stx(Size.DW, R0, 0, R1)
                .label("out").mov(R0, 0).exit()
                .build();
        try (BpfMap counters = BpfMap.create(MapSpec.of("counters", MapType.ARRAY, 4, 8, 1, 0));
                BpfProgram prog = BpfProgram.load("count", ProgramType.SCHED_CLS, p,
                        Map.of("counters", counters.fd().get()));
                Arena arena = Arena.ofConfined()) {
            prog.testRun(FRAME, 25);
            MemorySegment key = arena.allocate(JAVA_INT);
            MemorySegment value = arena.allocate(JAVA_LONG);
            assertThat(counters.lookup(key, value)).isTrue();
            assertThat(value.get(JAVA_LONG, 0)).isEqualTo(25);
        }
    }

    @Test
    void verifierRefusalCarriesTheLogAndOurDisassembly() {
        // Reads r2 before anything wrote it: the verifier says "R2 !read_ok".
        Program p = new Assembler().mov(R0, R2).exit().build();
        assertThatThrownBy(() -> BpfProgram.load("bad_prog", ProgramType.SCHED_CLS, p, Map.of()))
                .isInstanceOf(BpfException.class)
                .hasMessageStartingWith("BPF_PROG_LOAD on program bad_prog: EACCES")
                .hasMessageContaining("verifier log")
                .hasMessageContaining("R2 !read_ok")
                .hasMessageContaining("program (2 instructions):")
                .hasMessageContaining("0: (bf) r0 = r2");
    }
}
