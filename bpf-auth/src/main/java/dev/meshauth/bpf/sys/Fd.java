package dev.meshauth.bpf.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.atomic.AtomicBoolean;

/**
 * A kernel file descriptor (map, program, BTF object, link) owned by this process, closed exactly once.
 *
 * <p>BPF objects live as long as some fd or pin refers to them, so closing matters: a leaked map fd keeps
 * kernel memory, a leaked link fd keeps a program attached.
 */
public final class Fd implements AutoCloseable {
    private final int value;
    private final AtomicBoolean closed = new AtomicBoolean();

    /** Takes ownership of {@code value}. */
    public Fd(int value) {
        if (value < 0) {
            throw new IllegalArgumentException("not a file descriptor: " + value);
        }
        this.value = value;
    }

    /** The raw descriptor number.
     *
     * @throws IllegalStateException if already closed: using a closed fd number could hit an unrelated file
     */
    public int get() {
        if (closed.get()) {
            throw new IllegalStateException("file descriptor " + value + " is closed");
        }
        return value;
    }

    /** True once {@link #close} ran. */
    public boolean isClosed() {
        return closed.get();
    }

    @Override
    public void close() {
        if (closed.compareAndSet(false, true)) {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment capture = Native.allocateCapture(arena);
                Native.close(capture, value);
            }
        }
    }

    @Override
    public String toString() {
        return "fd " + value + (closed.get() ? " (closed)" : "");
    }
}
