package dev.meshauth.bpf.datapath;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/** A record the enforcement programs write to their ring buffer. */
public sealed interface DatapathSignal permits AuthSignal, HeldSyn {
    /**
     * Parses one ring buffer record by its signal number.
     *
     * @throws IllegalArgumentException for a record of an unknown number or the wrong size
     */
    static DatapathSignal parse(MemorySegment record) {
        if (record.byteSize() < 4) {
            throw new IllegalArgumentException("datapath record of " + record.byteSize() + " bytes has no signal number");
        }
        int nr = record.get(JAVA_INT.withByteAlignment(1), 0);
        return switch (nr) {
            case EnforcementProgram.SIGNAL_AUTH_REQUIRED -> AuthSignal.parse(record);
            case EnforcementProgram.SIGNAL_HELD_SYN -> HeldSyn.parse(record);
            default -> throw new IllegalArgumentException("unexpected signal number " + nr);
        };
    }
}
