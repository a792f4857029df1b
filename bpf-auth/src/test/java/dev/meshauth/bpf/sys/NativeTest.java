package dev.meshauth.bpf.sys;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import static org.assertj.core.api.Assertions.assertThat;

/** bpf(2)'s number per architecture (x86_64 syscall_64.tbl, asm-generic unistd.h). */
class NativeTest {
    @ParameterizedTest(name = "{0} -> {1}")
    @CsvSource({"amd64, 321", "x86_64, 321", "aarch64, 280", "arm64, 280", "riscv64, -1"})
    void knowsTheBpfSyscallNumber(String arch, long number) {
        assertThat(Native.bpfSyscallNumber(arch)).isEqualTo(number);
    }
}
