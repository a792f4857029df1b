package dev.meshauth.testing;

import java.time.Duration;
import java.util.concurrent.Callable;
import java.util.concurrent.locks.LockSupport;

/**
 * The one polling helper, for tests of real processes, sockets and kernels, whose time a test cannot
 * drive. Logic with time of its own is tested with {@link FakeClock} instead.
 */
public final class Eventually {
    private static final Duration POLL = Duration.ofMillis(10);

    private Eventually() {
    }

    /**
     * Waits until {@code condition} holds; fails naming {@code what} and the last exception the condition
     * threw, if any, after {@code timeout}.
     */
    public static void eventually(String what, Duration timeout, Callable<Boolean> condition) {
        eventually(what, timeout, POLL, condition);
    }

    /**
     * As above, checking every {@code poll} (for conditions that cost a request each). An
     * {@link AssertionError} thrown by the condition fails at once: it states an invariant, not progress.
     */
    public static void eventually(String what, Duration timeout, Duration poll, Callable<Boolean> condition) {
        long deadline = System.nanoTime() + timeout.toNanos();
        Exception last = null;
        while (true) {
            try {
                if (Boolean.TRUE.equals(condition.call())) {
                    return;
                }
                last = null;
            } catch (Exception e) {
                last = e;
            }
            if (System.nanoTime() - deadline > 0) {
                AssertionError e = new AssertionError("not within " + timeout.toMillis() + " ms: " + what
                        + (last == null ? "" : " (last error: " + last + ")"));
                if (last != null) {
                    e.initCause(last);
                }
                throw e;
            }
            pause(poll, what);
        }
    }

    /** Checks {@code condition} every {@code poll} for {@code period}; fails at the first time it does not hold. */
    public static void holds(String what, Duration period, Duration poll, Callable<Boolean> condition) {
        long end = System.nanoTime() + period.toNanos();
        while (System.nanoTime() - end < 0) {
            boolean ok;
            try {
                ok = Boolean.TRUE.equals(condition.call());
            } catch (Exception e) {
                throw new AssertionError("stopped holding: " + what + " (" + e + ")", e);
            }
            if (!ok) {
                throw new AssertionError("stopped holding within " + period.toMillis() + " ms: " + what);
            }
            pause(poll, what);
        }
    }

    private static void pause(Duration poll, String what) {
        LockSupport.parkNanos(poll.toNanos());
        if (Thread.interrupted()) {
            Thread.currentThread().interrupt();
            throw new AssertionError("interrupted while waiting for: " + what);
        }
    }

    /** {@link #eventually(String, Duration, Callable)} within 10 s. */
    public static void eventually(String what, Callable<Boolean> condition) {
        eventually(what, Duration.ofSeconds(10), condition);
    }
}
