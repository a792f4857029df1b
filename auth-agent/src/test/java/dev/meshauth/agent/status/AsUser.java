package dev.meshauth.agent.status;

import java.lang.foreign.FunctionDescriptor;
import java.lang.foreign.Linker;
import java.lang.foreign.ValueLayout;
import java.lang.invoke.MethodHandle;
import java.util.concurrent.atomic.AtomicReference;

/**
 * Runs code on a fresh platform thread whose credentials alone are dropped to an unprivileged uid/gid
 * (raw setgroups/setresgid/setresuid act on the calling thread only, unlike glibc's process-wide wrappers; the
 * kernel clears the thread's capabilities with its uids), so a root test sees what another user would.
 */
final class AsUser {
    private static final long NR_SETGROUPS = 116; // x86_64
    private static final long NR_SETRESUID = 117;
    private static final long NR_SETRESGID = 119;
    private static final MethodHandle SYSCALL = Linker.nativeLinker().downcallHandle(
            Linker.nativeLinker().defaultLookup().find("syscall").orElseThrow(),
            FunctionDescriptor.of(ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG, ValueLayout.JAVA_LONG,
                    ValueLayout.JAVA_LONG),
            Linker.Option.firstVariadicArg(1));

    private AsUser() {
    }

    interface Action {
        void run() throws Exception;
    }

    /** Runs {@code action} as uid/gid {@code id}; rethrows what it threw. */
    static void run(long id, Action action) throws Exception {
        if (!"amd64".equals(System.getProperty("os.arch"))) {
            throw new IllegalStateException("AsUser knows the x86_64 syscall numbers only");
        }
        AtomicReference<Exception> failure = new AtomicReference<>();
        Thread t = Thread.ofPlatform().start(() -> {
            try {
                if ((long) SYSCALL.invokeExact(NR_SETGROUPS, 0L, 0L, 0L) != 0
                        || (long) SYSCALL.invokeExact(NR_SETRESGID, id, id, id) != 0
                        || (long) SYSCALL.invokeExact(NR_SETRESUID, id, id, id) != 0) {
                    throw new IllegalStateException("setresuid/setresgid failed: is the test running as root?");
                }
                action.run();
            } catch (Exception e) {
                failure.set(e);
            } catch (Throwable e) {
                failure.set(new RuntimeException(e));
            }
        });
        t.join();
        if (failure.get() != null) {
            throw failure.get();
        }
    }
}
