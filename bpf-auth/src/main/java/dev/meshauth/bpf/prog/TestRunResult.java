package dev.meshauth.bpf.prog;

/**
 * What {@code BPF_PROG_TEST_RUN} reported.
 *
 * @param retval     the program's return value (for tc: 0 pass, 2 drop)
 * @param durationNs average run time per repetition, in nanoseconds, as measured by the kernel
 * @param dataOut    the packet after the program ran
 */
public record TestRunResult(int retval, int durationNs, byte[] dataOut) {
}
