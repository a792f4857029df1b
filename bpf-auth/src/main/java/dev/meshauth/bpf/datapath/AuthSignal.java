package dev.meshauth.bpf.datapath;

import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthMapLayout;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * An "auth required" record from the datapath: Cilium's {@code signal_msg} for
 * {@code SIGNAL_AUTH_REQUIRED}, {u32 signal_nr = 2; struct auth_key} (16 bytes).
 *
 * @param key the identity pair the datapath dropped traffic for
 */
public record AuthSignal(AuthKey key) implements DatapathSignal {
    /** Record size in bytes. */
    public static final int SIZE = (int) DatapathCodecs.SIGNAL_MSG.byteSize();
    private static final int NR = DatapathCodecs.offset(DatapathCodecs.SIGNAL_MSG, "signal_nr");
    private static final int KEY = DatapathCodecs.offset(DatapathCodecs.SIGNAL_MSG, "auth");

    /**
     * Parses a ring buffer record.
     *
     * @throws IllegalArgumentException for a record of another size or signal number
     */
    public static AuthSignal parse(MemorySegment record) {
        if (record.byteSize() != SIZE) {
            throw new IllegalArgumentException("auth signal must be " + SIZE + " bytes, got " + record.byteSize());
        }
        int nr = record.get(JAVA_INT.withByteAlignment(1), NR);
        if (nr != EnforcementProgram.SIGNAL_AUTH_REQUIRED) {
            throw new IllegalArgumentException("unexpected signal number " + nr);
        }
        MemorySegment aligned = java.lang.foreign.Arena.ofAuto().allocate(AuthMapLayout.KEY);
        aligned.copyFrom(record.asSlice(KEY, AuthMapLayout.KEY.byteSize()));
        return new AuthSignal(AuthMapLayout.KEY_CODEC.decode(aligned, 0));
    }
}
