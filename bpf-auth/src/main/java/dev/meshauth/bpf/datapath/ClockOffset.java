package dev.meshauth.bpf.datapath;

import dev.meshauth.bpf.auth.UTime;

import java.time.InstantSource;
import java.util.function.LongSupplier;

/**
 * The offset that turns the kernel's {@code ktime_get_ns() >> 9} (CLOCK_MONOTONIC) into Cilium's utime
 * (Unix epoch, 512 ns ticks), as Cilium's pkg/datapath/linux/utime computes it: the best of several
 * samples of wall time bracketed by two monotonic reads.
 */
public final class ClockOffset {
    private static final int SAMPLES = 10;

    private final InstantSource wall;
    private final LongSupplier monotonicNanos;

    /** Uses the system clocks: {@link System#nanoTime()} is CLOCK_MONOTONIC on Linux, like ktime_get_ns. */
    public ClockOffset() {
        this(InstantSource.system(), System::nanoTime);
    }

    /** For tests: injected clocks. */
    public ClockOffset(InstantSource wall, LongSupplier monotonicNanos) {
        this.wall = wall;
        this.monotonicNanos = monotonicNanos;
    }

    /** Ticks to add to {@code ktime_get_ns() >> 9} to get utime now. */
    public long compute() {
        long best = 0;
        long bestSpread = Long.MAX_VALUE;
        for (int i = 0; i < SAMPLES; i++) {
            long before = monotonicNanos.getAsLong();
            long wallTicks = UTime.fromInstant(wall.instant()).ticks();
            long after = monotonicNanos.getAsLong();
            long spread = after - before;
            if (spread < bestSpread) {
                bestSpread = spread;
                best = wallTicks - ((before + spread / 2) >> UTime.SHIFT);
            }
        }
        return best;
    }
}
