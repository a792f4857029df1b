package dev.meshauth.agent.time;

import java.time.Duration;
import java.time.InstantSource;
import java.util.Optional;
import java.util.function.LongSupplier;

/**
 * Notices the wall clock being stepped ({@code settimeofday}, an NTP step, a VM resumed): the wall clock
 * and the monotonic ticker should advance together, so a change in their difference beyond a threshold is
 * a step. Expiries are wall times (an SVID's NotAfter) while the kernel counts monotonic time plus an
 * offset taken from the wall clock, so after a step the offset must be taken again and expiries judged
 * again at once, not at the next periodic sync. Slewing (NTP's gradual correction, at most 500 ppm) stays
 * far below the threshold. Not thread-safe: one caller, the agent's loop.
 */
public final class ClockStepWatch {
    /** A step smaller than this is not reported: utime has 512 ns ticks, but expiries are whole seconds. */
    public static final Duration DEFAULT_THRESHOLD = Duration.ofSeconds(1);

    private final InstantSource wall;
    private final LongSupplier monotonic;
    private final long thresholdNanos;
    private long baseline;

    /** Takes the baseline now. */
    public ClockStepWatch(InstantSource wall, LongSupplier monotonic, Duration threshold) {
        this.wall = wall;
        this.monotonic = monotonic;
        this.thresholdNanos = threshold.toNanos();
        this.baseline = difference();
    }

    private long difference() {
        java.time.Instant now = wall.instant();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano() - monotonic.getAsLong();
    }

    /**
     * The step since the last report, if the wall clock moved by at least the threshold against the
     * monotonic ticker (positive: forward); a reported step becomes the new baseline.
     */
    public Optional<Duration> check() {
        long now = difference();
        long step = now - baseline;
        if (Math.abs(step) < thresholdNanos) {
            return Optional.empty();
        }
        baseline = now;
        return Optional.of(Duration.ofNanos(step));
    }
}
