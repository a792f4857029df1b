package dev.meshauth.spire.testing;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicReference;

/** A clock tests move by hand. */
public final class MutableClock implements InstantSource {
    private final AtomicReference<Instant> now;

    /** Starts at {@code start}. */
    public MutableClock(Instant start) {
        this.now = new AtomicReference<>(start);
    }

    @Override
    public Instant instant() {
        return now.get();
    }

    /** Moves forward. */
    public void advance(Duration d) {
        now.updateAndGet(t -> t.plus(d));
    }
}
