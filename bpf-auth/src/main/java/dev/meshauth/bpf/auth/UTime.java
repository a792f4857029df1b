package dev.meshauth.bpf.auth;

import java.time.Instant;

/**
 * Cilium's "utime": time since the Unix epoch in ticks of 512 ns (2^9 ns), the unit of
 * {@code auth_info.expiration} (pkg/datapath/linux/utime/utime.go, bpf/lib/utime.h).
 *
 * <p>Conversions truncate to the tick: {@code fromInstant(i).toInstant()} is {@code i} rounded down to a
 * multiple of 512 ns, and {@code fromInstant(u.toInstant())} is exactly {@code u}.
 *
 * @param ticks 512-ns ticks since 1970-01-01T00:00:00Z (may be negative for earlier instants)
 */
public record UTime(long ticks) implements Comparable<UTime> {
    /** Ticks per second: 10^9 / 512. */
    public static final long TICKS_PER_SECOND = 1_953_125L;
    /** log2 of the tick length in nanoseconds. */
    public static final int SHIFT = 9;

    /** {@code secs * 1953125 + nanos >> 9}, as Cilium's {@code ToUTime}. */
    public static UTime fromInstant(Instant t) {
        return new UTime(Math.multiplyExact(t.getEpochSecond(), TICKS_PER_SECOND) + (t.getNano() >> SHIFT));
    }

    /** The instant this tick starts at. */
    public Instant toInstant() {
        long secs = Math.floorDiv(ticks, TICKS_PER_SECOND);
        long rem = Math.floorMod(ticks, TICKS_PER_SECOND);
        return Instant.ofEpochSecond(secs, rem << SHIFT);
    }

    /** True if this time is before {@code other}. */
    public boolean isBefore(UTime other) {
        return ticks < other.ticks;
    }

    @Override
    public int compareTo(UTime o) {
        return Long.compare(ticks, o.ticks);
    }
}
