package dev.meshauth.agent.time;

import java.time.InstantSource;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.function.LongSupplier;

/**
 * Time, injected: the wall clock (expiries), a monotonic ticker in nanoseconds (latencies, deadlines) and
 * the scheduler that runs timed work. Production: the system's and one daemon thread; tests: a fake clock
 * that is all three, so time moves only when the test says so.
 *
 * @param clock     wall time
 * @param ticker    monotonic nanoseconds
 * @param scheduler timed work (whoever created it shuts it down)
 */
public record Clocks(InstantSource clock, LongSupplier ticker, ScheduledExecutorService scheduler) {
    /** The system clock and ticker, with a new single-thread daemon scheduler named {@code thread}. */
    public static Clocks system(String thread) {
        return new Clocks(InstantSource.system(), System::nanoTime, Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name(thread).factory()));
    }
}
