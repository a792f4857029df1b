package dev.meshauth.spire.retry;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.random.RandomGenerator;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Doubling with jitter in [d/2, d], capped, back to the minimum after a success. */
class BackoffTest {
    /** A random source that always answers its bound's extreme, so each delay is its window's end. */
    private static RandomGenerator highest() {
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                return Long.MAX_VALUE;
            }

            @Override
            public long nextLong(long bound) {
                return bound - 1;
            }
        };
    }

    private static RandomGenerator lowest() {
        return new RandomGenerator() {
            @Override
            public long nextLong() {
                return 0;
            }

            @Override
            public long nextLong(long bound) {
                return 0;
            }
        };
    }

    @Test
    void doublesUpToTheCeilingAndJittersDownToHalf() {
        Backoff high = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), highest());
        assertThat(high.next()).isEqualTo(Duration.ofMillis(100));
        assertThat(high.next()).isEqualTo(Duration.ofMillis(200));
        assertThat(high.next()).isEqualTo(Duration.ofMillis(400));
        assertThat(high.next()).isEqualTo(Duration.ofMillis(800));
        assertThat(high.next()).as("capped").isEqualTo(Duration.ofSeconds(1));
        assertThat(high.next()).isEqualTo(Duration.ofSeconds(1));

        Backoff low = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(1), lowest());
        assertThat(low.next()).as("never under the minimum").isEqualTo(Duration.ofMillis(100));
        assertThat(low.next()).isEqualTo(Duration.ofMillis(100));
        assertThat(low.next()).isEqualTo(Duration.ofMillis(200));
        assertThat(low.next()).isEqualTo(Duration.ofMillis(400));
        assertThat(low.next()).isEqualTo(Duration.ofMillis(500));
    }

    @Test
    void aSuccessStartsOver() {
        Backoff b = new Backoff(Duration.ofMillis(100), Duration.ofSeconds(10), highest());
        b.next();
        b.next();
        b.reset();
        assertThat(b.next()).isEqualTo(Duration.ofMillis(100));
    }

    @Test
    void manyFailuresNeitherOverflowNorExceedTheCeiling() {
        Backoff b = Backoff.standard();
        Duration last = Duration.ZERO;
        for (int i = 0; i < 200; i++) {
            last = b.next();
            assertThat(last).isBetween(Duration.ofMillis(100), Duration.ofSeconds(10));
        }
        assertThat(last).isGreaterThanOrEqualTo(Duration.ofSeconds(5));
    }

    @Test
    void refusesAnEmptyOrInvertedRange() {
        assertThatThrownBy(() -> new Backoff(Duration.ZERO, Duration.ofSeconds(1), highest()))
                .isInstanceOf(IllegalArgumentException.class).hasMessageContaining("0 < min <= max");
        assertThatThrownBy(() -> new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(1), highest()))
                .isInstanceOf(IllegalArgumentException.class);
    }
}
