package dev.meshauth.bpf.link;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.sys.Fd;
import dev.meshauth.bpf.sys.Native;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.FutureTask;

/**
 * Runs work inside a network namespace. Namespaces are per thread in Linux, so the work runs on a fresh
 * platform thread that joins the namespace ({@code setns}) and then ends: no JVM thread is left in a
 * foreign namespace.
 */
public final class NetNs {
    private static final int O_RDONLY_CLOEXEC = 0x80000;
    private static final int CLONE_NEWNET = 0x40000000;

    private NetNs() {
    }

    /** The path {@code ip netns add NAME} creates. */
    public static Path named(String name) {
        return Path.of("/var/run/netns", name);
    }

    /**
     * Work to run inside a namespace.
     *
     * @param <T> result
     * @param <E> what the work may throw
     */
    @FunctionalInterface
    public interface Work<T, E extends Exception> {
        /** Runs inside the namespace. */
        T run() throws E;
    }

    /**
     * Runs {@code work} in the namespace at {@code nsPath}, or in the current one if empty.
     *
     * @throws E from the work
     * @throws BpfException if the namespace cannot be entered
     */
    @SuppressWarnings("unchecked")
    public static <T, E extends Exception> T run(Optional<Path> nsPath, Work<T, E> work) throws E, BpfException {
        if (nsPath.isEmpty()) {
            return work.run();
        }
        Path ns = nsPath.get();
        Callable<T> task = () -> {
            try (Arena arena = Arena.ofConfined()) {
                MemorySegment capture = Native.allocateCapture(arena);
                int fd = Native.open(capture, arena.allocateFrom(ns.toString()), O_RDONLY_CLOEXEC);
                if (fd < 0) {
                    throw BpfException.syscall("open network namespace", ns.toString(), Native.errno(capture));
                }
                try (Fd nsFd = new Fd(fd)) {
                    if (Native.setns(capture, nsFd.get(), CLONE_NEWNET) != 0) {
                        throw BpfException.syscall("setns", ns.toString(), Native.errno(capture));
                    }
                }
            }
            return work.run();
        };
        FutureTask<T> future = new FutureTask<>(task);
        Thread t = Thread.ofPlatform().name("netns-" + ns.getFileName()).start(future);
        try {
            t.join();
            return future.get();
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw BpfException.of("enter network namespace", ns.toString(), "interrupted");
        } catch (ExecutionException e) {
            Throwable cause = e.getCause();
            if (cause instanceof BpfException be) {
                throw be;
            }
            if (cause instanceof RuntimeException re) {
                throw re;
            }
            if (cause instanceof Error err) {
                throw err;
            }
            throw (E) cause; // the only checked exceptions the task can throw are E and BpfException
        }
    }

    /**
     * The interface index of {@code name} in the calling thread's namespace.
     *
     * @throws BpfException ENODEV if there is no such interface
     */
    public static int ifindex(String name) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = Native.allocateCapture(arena);
            int index = Native.ifNameToIndex(capture, arena.allocateFrom(name));
            if (index == 0) {
                throw BpfException.syscall("if_nametoindex", "interface " + name, Native.errno(capture));
            }
            return index;
        }
    }
}
