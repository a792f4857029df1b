package dev.meshauth.spire.retry;

import java.time.Duration;
import java.util.random.RandomGenerator;

/**
 * Exponential backoff with jitter between {@code min} and {@code max}, the one retry rule of meshauth: the
 * SPIRE streams' reconnects (Cilium's SPIRE client: 100 ms to 10 s) and the auth manager's handshake
 * retries use it. It lives in the SPIRE client library, as java-spiffe's {@code workloadapi.retry} does,
 * because the agent, its other user, depends on this module. Each delay is drawn uniformly from [d/2, d] where d doubles per failure, so many agents
 * restarting together do not reconnect in lockstep.
 */
public final class Backoff {
    private final Duration min;
    private final Duration max;
    private final RandomGenerator random;
    private int failures; // @GuardedBy("this")

    /** A backoff; {@code random} is injectable so tests are deterministic. */
    public Backoff(Duration min, Duration max, RandomGenerator random) {
        if (min.isNegative() || min.isZero() || max.compareTo(min) < 0) {
            throw new IllegalArgumentException("backoff needs 0 < min <= max, got " + min + " and " + max);
        }
        this.min = min;
        this.max = max;
        this.random = random;
    }

    /** 100 ms to 10 s. */
    public static Backoff standard() {
        return new Backoff(Duration.ofMillis(100), Duration.ofSeconds(10), RandomGenerator.getDefault());
    }

    /** The delay before the next attempt, after one more failure. */
    public synchronized Duration next() {
        long ceiling = min.toNanos() << Math.min(failures, 30);
        if (ceiling <= 0 || ceiling > max.toNanos()) {
            ceiling = max.toNanos();
        }
        failures++;
        long floor = Math.max(min.toNanos(), ceiling / 2);
        return Duration.ofNanos(floor + (ceiling > floor ? random.nextLong(ceiling - floor + 1) : 0));
    }

    /** Back to the minimum after a success. */
    public synchronized void reset() {
        failures = 0;
    }
}
