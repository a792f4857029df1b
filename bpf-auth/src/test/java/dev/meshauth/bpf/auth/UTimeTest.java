package dev.meshauth.bpf.auth;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Instant;
import java.util.SplittableRandom;

import static org.assertj.core.api.Assertions.assertThat;

/** Cilium's utime: 512 ns ticks since the Unix epoch, exact to the tick. */
class UTimeTest {

    @ParameterizedTest(name = "{0}s + {1}ns = {2} ticks")
    @CsvSource({
        "0, 0, 0",
        "0, 511, 0",           // below one tick truncates
        "0, 512, 1",
        "0, 1023, 1",
        "1, 0, 1953125",       // 10^9 / 512
        "1, 999999999, 3906249",
        "1764145800, 0, 3445597265625000", // 2025-11-26T08:30:00Z
        "-1, 0, -1953125",
    })
    void convertsLikeCiliumsToUTime(long secs, long nanos, long ticks) {
        assertThat(UTime.fromInstant(Instant.ofEpochSecond(secs, nanos)).ticks()).isEqualTo(ticks);
    }

    @Test
    void everyTickRoundTripsExactly() {
        SplittableRandom random = new SplittableRandom(42);
        for (int i = 0; i < 100_000; i++) {
            long ticks = random.nextLong(-(1L << 50), 1L << 55);
            UTime u = new UTime(ticks);
            assertThat(UTime.fromInstant(u.toInstant())).isEqualTo(u);
        }
    }

    @Test
    void instantsTruncateToTheirTickStart() {
        SplittableRandom random = new SplittableRandom(7);
        for (int i = 0; i < 100_000; i++) {
            Instant t = Instant.ofEpochSecond(random.nextLong(0, 5_000_000_000L), random.nextInt(1_000_000_000));
            Instant back = UTime.fromInstant(t).toInstant();
            assertThat(back).isBeforeOrEqualTo(t);
            assertThat(t.getEpochSecond() * 1_000_000_000L + t.getNano()
                    - (back.getEpochSecond() * 1_000_000_000L + back.getNano())).isBetween(0L, 511L);
        }
    }

    @Test
    void validityIsStrictlyBeforeExpiration() {
        Instant exp = Instant.parse("2026-11-26T10:00:00Z");
        AuthInfo info = AuthInfo.expiringAt(exp);
        assertThat(info.isValidAt(exp.minusNanos(512))).isTrue();
        assertThat(info.isValidAt(exp)).isFalse();
        assertThat(info.isValidAt(exp.plusSeconds(1))).isFalse();
        assertThat(info.expiresAt()).isEqualTo(exp);
    }
}
