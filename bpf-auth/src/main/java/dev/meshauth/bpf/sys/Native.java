package dev.meshauth.bpf.sys;

import java.lang.foreign.Arena;
import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.lang.foreign.StructLayout;
import java.lang.invoke.MethodHandle;
import java.lang.invoke.VarHandle;

import static java.lang.foreign.ValueLayout.ADDRESS;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The raw libc entry points, linked once, with errno captured by the linker.
 *
 * <p>errno must be captured with {@code Linker.Option.captureCallState}: reading it through a separate
 * {@code __errno_location()} call afterwards races with the JVM, which may make its own libc calls in
 * between. Every method here returns the libc result; when it signals failure the errno is in the
 * caller-supplied capture segment ({@link #errno}).
 */
public final class Native {
    private static final Linker LINKER = Linker.nativeLinker();
    private static final StructLayout CAPTURE_LAYOUT = Linker.Option.captureStateLayout();
    private static final VarHandle ERRNO = CAPTURE_LAYOUT.varHandle(PathElement.groupElement("errno"));
    private static final Linker.Option CAPTURE_ERRNO = Linker.Option.captureCallState("errno");

    /** bpf(2) syscall number on this architecture. */
    public static final long NR_BPF = bpfSyscallNumber(System.getProperty("os.arch"));

    // long syscall(long number, ...): everything after `number` is variadic; passing all as long is
    // what the C calling convention does with the int and pointer arguments anyway.
    private static final MethodHandle SYSCALL3 = link("syscall",
            FunctionDescriptor.of(JAVA_LONG, JAVA_LONG, JAVA_LONG, ADDRESS, JAVA_LONG),
            Linker.Option.firstVariadicArg(1), CAPTURE_ERRNO);
    private static final MethodHandle CLOSE = link("close", FunctionDescriptor.of(JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle STATFS = link("statfs",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle MOUNT = link("mount",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, ADDRESS, ADDRESS, JAVA_LONG, ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle UMOUNT2 = link("umount2",
            FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);

    private static final MethodHandle MMAP = link("mmap",
            FunctionDescriptor.of(ADDRESS, ADDRESS, JAVA_LONG, JAVA_INT, JAVA_INT, JAVA_INT, JAVA_LONG), CAPTURE_ERRNO);
    private static final MethodHandle MUNMAP = link("munmap", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_LONG),
            CAPTURE_ERRNO);
    private static final MethodHandle EPOLL_CREATE1 = link("epoll_create1", FunctionDescriptor.of(JAVA_INT, JAVA_INT),
            CAPTURE_ERRNO);
    private static final MethodHandle EPOLL_CTL = link("epoll_ctl",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT, ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle EPOLL_WAIT = link("epoll_wait",
            FunctionDescriptor.of(JAVA_INT, JAVA_INT, ADDRESS, JAVA_INT, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle SYSCONF = link("sysconf", FunctionDescriptor.of(JAVA_LONG, JAVA_INT));
    private static final MethodHandle IF_NAMETOINDEX = link("if_nametoindex",
            FunctionDescriptor.of(JAVA_INT, ADDRESS), CAPTURE_ERRNO);
    private static final MethodHandle SETNS = link("setns", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT),
            CAPTURE_ERRNO);
    private static final MethodHandle OPEN = link("open", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
            Linker.Option.firstVariadicArg(2), CAPTURE_ERRNO);
    private static final MethodHandle FLOCK = link("flock", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT),
            CAPTURE_ERRNO);
    private static final MethodHandle SOCKET = link("socket", FunctionDescriptor.of(JAVA_INT, JAVA_INT, JAVA_INT, JAVA_INT),
            CAPTURE_ERRNO);
    private static final MethodHandle SENDTO = link("sendto",
            FunctionDescriptor.of(JAVA_LONG, JAVA_INT, ADDRESS, JAVA_LONG, JAVA_INT, ADDRESS, JAVA_INT), CAPTURE_ERRNO);
    private static final MethodHandle MKDIR = link("mkdir", FunctionDescriptor.of(JAVA_INT, ADDRESS, JAVA_INT),
            CAPTURE_ERRNO);

    private Native() {
    }

    static long bpfSyscallNumber(String arch) {
        return switch (arch) {
            case "amd64", "x86_64" -> 321L;
            case "aarch64", "arm64" -> 280L;
            default -> -1L;
        };
    }

    private static MethodHandle link(String symbol, FunctionDescriptor descriptor, Linker.Option... options) {
        MemorySegment address = LINKER.defaultLookup().find(symbol)
                .orElseThrow(() -> new IllegalStateException("libc symbol not found: " + symbol));
        return LINKER.downcallHandle(address, descriptor, options);
    }

    /** Allocates a segment the linker can write errno into. */
    public static MemorySegment allocateCapture(Arena arena) {
        return arena.allocate(CAPTURE_LAYOUT);
    }

    /** The errno captured by the last call that used {@code capture}. */
    public static int errno(MemorySegment capture) {
        return (int) ERRNO.get(capture, 0L);
    }

    /** {@code syscall(SYS_bpf, cmd, attr, size)}; returns -1 and sets the captured errno on failure. */
    public static long bpf(MemorySegment capture, int cmd, MemorySegment attr, long size) {
        if (NR_BPF < 0) {
            throw new UnsupportedOperationException(
                    "bpf(2) syscall number unknown for architecture " + System.getProperty("os.arch")
                            + " (supported: x86_64, aarch64)");
        }
        try {
            return (long) SYSCALL3.invokeExact(capture, NR_BPF, (long) cmd, attr, size);
        } catch (Throwable t) {
            throw linkageFailure("syscall", t);
        }
    }

    /** {@code close(fd)}. */
    public static int close(MemorySegment capture, int fd) {
        try {
            return (int) CLOSE.invokeExact(capture, fd);
        } catch (Throwable t) {
            throw linkageFailure("close", t);
        }
    }

    /** {@code statfs(path, buf)}; {@code buf} must hold a {@code struct statfs} (120 bytes on 64-bit Linux). */
    public static int statfs(MemorySegment capture, MemorySegment path, MemorySegment buf) {
        try {
            return (int) STATFS.invokeExact(capture, path, buf);
        } catch (Throwable t) {
            throw linkageFailure("statfs", t);
        }
    }

    /** {@code mount(source, target, fstype, flags, data)}. */
    public static int mount(MemorySegment capture, MemorySegment source, MemorySegment target,
            MemorySegment fstype, long flags, MemorySegment data) {
        try {
            return (int) MOUNT.invokeExact(capture, source, target, fstype, flags, data);
        } catch (Throwable t) {
            throw linkageFailure("mount", t);
        }
    }

    /** {@code umount2(target, flags)}. */
    public static int umount2(MemorySegment capture, MemorySegment target, int flags) {
        try {
            return (int) UMOUNT2.invokeExact(capture, target, flags);
        } catch (Throwable t) {
            throw linkageFailure("umount2", t);
        }
    }

    /** {@code mmap}; returns {@code MAP_FAILED} (address -1) on failure. */
    public static MemorySegment mmap(MemorySegment capture, long length, int prot, int flags, int fd, long offset) {
        try {
            return (MemorySegment) MMAP.invokeExact(capture, MemorySegment.NULL, length, prot, flags, fd, offset);
        } catch (Throwable t) {
            throw linkageFailure("mmap", t);
        }
    }

    /** {@code munmap}. */
    public static int munmap(MemorySegment capture, MemorySegment addr, long length) {
        try {
            return (int) MUNMAP.invokeExact(capture, addr, length);
        } catch (Throwable t) {
            throw linkageFailure("munmap", t);
        }
    }

    /** {@code epoll_create1(flags)}. */
    public static int epollCreate1(MemorySegment capture, int flags) {
        try {
            return (int) EPOLL_CREATE1.invokeExact(capture, flags);
        } catch (Throwable t) {
            throw linkageFailure("epoll_create1", t);
        }
    }

    /** {@code epoll_ctl(epfd, op, fd, event)}. */
    public static int epollCtl(MemorySegment capture, int epfd, int op, int fd, MemorySegment event) {
        try {
            return (int) EPOLL_CTL.invokeExact(capture, epfd, op, fd, event);
        } catch (Throwable t) {
            throw linkageFailure("epoll_ctl", t);
        }
    }

    /** {@code epoll_wait(epfd, events, max, timeoutMs)}. */
    public static int epollWait(MemorySegment capture, int epfd, MemorySegment events, int max, int timeoutMs) {
        try {
            return (int) EPOLL_WAIT.invokeExact(capture, epfd, events, max, timeoutMs);
        } catch (Throwable t) {
            throw linkageFailure("epoll_wait", t);
        }
    }

    /** The system page size. */
    public static long pageSize() {
        try {
            return (long) SYSCONF.invokeExact(30); // _SC_PAGESIZE
        } catch (Throwable t) {
            throw linkageFailure("sysconf", t);
        }
    }

    /** {@code if_nametoindex(name)}: 0 and errno on failure. */
    public static int ifNameToIndex(MemorySegment capture, MemorySegment name) {
        try {
            return (int) IF_NAMETOINDEX.invokeExact(capture, name);
        } catch (Throwable t) {
            throw linkageFailure("if_nametoindex", t);
        }
    }

    /** {@code setns(fd, nstype)} for the calling thread. */
    public static int setns(MemorySegment capture, int fd, int nstype) {
        try {
            return (int) SETNS.invokeExact(capture, fd, nstype);
        } catch (Throwable t) {
            throw linkageFailure("setns", t);
        }
    }

    /** {@code open(path, flags)}. */
    public static int open(MemorySegment capture, MemorySegment path, int flags) {
        try {
            return (int) OPEN.invokeExact(capture, path, flags);
        } catch (Throwable t) {
            throw linkageFailure("open", t);
        }
    }

    /** {@code flock(fd, operation)}. */
    public static int flock(MemorySegment capture, int fd, int operation) {
        try {
            return (int) FLOCK.invokeExact(capture, fd, operation);
        } catch (Throwable t) {
            throw linkageFailure("flock", t);
        }
    }

    /** {@code mkdir(path, mode)}. */
    public static int mkdir(MemorySegment capture, MemorySegment path, int mode) {
        try {
            return (int) MKDIR.invokeExact(capture, path, mode);
        } catch (Throwable t) {
            throw linkageFailure("mkdir", t);
        }
    }

    /** {@code socket(domain, type, protocol)}. */
    public static int socket(MemorySegment capture, int domain, int type, int protocol) {
        try {
            return (int) SOCKET.invokeExact(capture, domain, type, protocol);
        } catch (Throwable t) {
            throw linkageFailure("socket", t);
        }
    }

    /** {@code sendto(fd, buf, len, flags, addr, addrlen)}. */
    public static long sendto(MemorySegment capture, int fd, MemorySegment buf, long len, int flags, MemorySegment addr,
            int addrLen) {
        try {
            return (long) SENDTO.invokeExact(capture, fd, buf, len, flags, addr, addrLen);
        } catch (Throwable t) {
            throw linkageFailure("sendto", t);
        }
    }

    private static RuntimeException linkageFailure(String symbol, Throwable t) {
        if (t instanceof RuntimeException re) {
            return re;
        }
        if (t instanceof Error err) {
            throw err;
        }
        return new IllegalStateException("native call " + symbol + " failed: " + t, t);
    }
}
