package dev.meshauth.bpf.sys;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.Errno;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * One bpf(2) invocation: a zeroed {@code union bpf_attr}, the fields the caller sets, and the call.
 *
 * <p>Each thread owns one reusable attribute buffer and errno capture segment, so the hot path (map
 * lookup and update) allocates nothing. Use it strictly as begin, set fields, invoke; do not begin a
 * second call on the same thread before invoking the first.
 *
 * <pre>{@code
 * long fd = BpfCall.begin(BpfCommand.OBJ_GET).putAddress(0, path).invokeOrThrow("pin " + p);
 * }</pre>
 */
public final class BpfCall {
    /** sizeof(union bpf_attr) in the newest header we know (6.18); every command fits. */
    static final int ATTR_CAPACITY = 168;
    /** EAGAIN/EINTR retries before giving up: the verifier can be interrupted by the JVM's own signals. */
    static final int MAX_RETRIES = 64;

    private static final ThreadLocal<BpfCall> PER_THREAD = ThreadLocal.withInitial(BpfCall::new);

    private final MemorySegment attr;
    private final MemorySegment capture;
    private BpfCommand command;

    private BpfCall() {
        Arena arena = Arena.ofAuto();
        this.attr = arena.allocate(ATTR_CAPACITY, 8);
        this.capture = Native.allocateCapture(arena);
    }

    /** Starts a call: the thread's attribute buffer, zeroed over the command's size. */
    public static BpfCall begin(BpfCommand command) {
        BpfCall call = PER_THREAD.get();
        call.command = command;
        call.attr.asSlice(0, command.attrSize()).fill((byte) 0);
        return call;
    }

    /** Sets a u32 field at {@code offset} of the attribute union. */
    public BpfCall putInt(long offset, int value) {
        attr.set(JAVA_INT, offset, value);
        return this;
    }

    /** Sets a u64 field at {@code offset}. */
    public BpfCall putLong(long offset, long value) {
        attr.set(JAVA_LONG, offset, value);
        return this;
    }

    /** Sets an {@code __aligned_u64} pointer field; {@code segment} must be native (or NULL). */
    public BpfCall putAddress(long offset, MemorySegment segment) {
        attr.set(JAVA_LONG, offset, segment.address());
        return this;
    }

    /** Copies bytes (a NUL-padded object name) into the attribute union. */
    public BpfCall putBytes(long offset, byte[] bytes) {
        MemorySegment.copy(bytes, 0, attr, JAVA_BYTE, offset, bytes.length);
        return this;
    }

    /** Reads back a u32 field the kernel wrote (for example a batch {@code count}). */
    public int getInt(long offset) {
        return attr.get(JAVA_INT, offset);
    }

    /** Reads back a u64 field the kernel wrote. */
    public long getLong(long offset) {
        return attr.get(JAVA_LONG, offset);
    }

    /**
     * Makes the call, retrying EAGAIN and EINTR.
     *
     * @return the non-negative result (an fd or 0), or {@code -errno} on failure
     */
    public long invoke() {
        for (int attempt = 0; ; attempt++) {
            long r = Native.bpf(capture, command.number(), attr, command.attrSize());
            if (r >= 0) {
                return r;
            }
            int errno = Native.errno(capture);
            boolean transient_ = errno == Errno.EAGAIN.number() || errno == Errno.EINTR.number();
            if (!transient_ || attempt >= MAX_RETRIES) {
                return -errno;
            }
        }
    }

    /**
     * Makes the call and turns a failure into a {@link BpfException} naming the command and {@code object}.
     *
     * @throws BpfException if the kernel refused
     */
    public long invokeOrThrow(String object) throws BpfException {
        long r = invoke();
        if (r < 0) {
            throw BpfException.syscall(command.kernelName(), object, (int) -r);
        }
        return r;
    }

    /** The command this call runs. */
    public BpfCommand command() {
        return command;
    }
}
