package dev.meshauth.bpf.fs;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.sys.Fd;
import dev.meshauth.bpf.sys.Native;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;

/**
 * One writer per pinned map: an exclusive {@code flock(2)} on a directory beside the pin
 * ({@code meshauth_lock_<name>}; bpffs takes directories but no regular files, and no dots in names),
 * held while the map is open for writing. A second meshauth agent pointed at the same map is refused at
 * start instead of fighting the first over its entries; the kernel drops the lock when the holder exits,
 * however it exits, so a SIGKILLed agent never blocks its successor. Cilium's own agent does not take it: sharing the map with
 * Cilium's datapath is the design.
 */
public final class PinLock implements AutoCloseable {
    private static final int O_RDONLY_DIRECTORY_CLOEXEC = 0x10000 | 0x80000; // O_RDONLY | O_DIRECTORY | O_CLOEXEC
    private static final int LOCK_EX_NB = 2 | 4;
    private static final int EEXIST = 17;
    private static final int EWOULDBLOCK = 11;

    private final Fd fd;
    private final Path dir;

    private PinLock(Fd fd, Path dir) {
        this.fd = fd;
        this.dir = dir;
    }

    /** The lock directory of {@code pin}. */
    public static Path lockDirOf(Path pin) {
        Path abs = pin.toAbsolutePath();
        return abs.resolveSibling("meshauth_lock_" + abs.getFileName()); // bpffs refuses names with a dot
    }

    /**
     * Takes the lock of {@code pin} without waiting.
     *
     * @throws BpfException if another process holds it (naming the map and what to do), or the lock
     *                      directory cannot be made or opened
     */
    public static PinLock acquire(Path pin) throws BpfException {
        Path dir = lockDirOf(pin);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = Native.allocateCapture(arena);
            MemorySegment path = arena.allocateFrom(dir.toString());
            if (Native.mkdir(capture, path, 0700) != 0 && Native.errno(capture) != EEXIST) {
                throw BpfException.syscall("make the lock directory of the auth map", dir.toString(), Native.errno(capture));
            }
            int raw = Native.open(capture, path, O_RDONLY_DIRECTORY_CLOEXEC);
            if (raw < 0) {
                throw BpfException.syscall("open the lock directory of the auth map", dir.toString(), Native.errno(capture));
            }
            Fd fd = new Fd(raw);
            if (Native.flock(capture, fd.get(), LOCK_EX_NB) != 0) {
                int errno = Native.errno(capture);
                fd.close();
                if (errno == EWOULDBLOCK) {
                    throw BpfException.of("take the auth map", pin.toString(), "another meshauth agent on this node has it"
                            + " open for writing (lock " + dir + "): stop it, or give this agent another --auth-map");
                }
                throw BpfException.syscall("lock the auth map", dir.toString(), errno);
            }
            return new PinLock(fd, dir);
        }
    }

    /** The lock directory. */
    public Path dir() {
        return dir;
    }

    /** Releases the lock (closing the descriptor drops it); the directory stays for the next holder. */
    @Override
    public void close() {
        fd.close();
    }
}
