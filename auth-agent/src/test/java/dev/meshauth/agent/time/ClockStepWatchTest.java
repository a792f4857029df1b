package dev.meshauth.agent.time;

import dev.meshauth.testing.FakeClock;
import org.junit.jupiter.api.Test;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;

class ClockStepWatchTest {
    private final FakeClock clock = new FakeClock();
    private final ClockStepWatch watch = new ClockStepWatch(clock, clock.ticker(), Duration.ofSeconds(1));

    @Test
    void timePassingIsNotAStep() {
        clock.advance(Duration.ofHours(3));
        assertThat(watch.check()).isEmpty();
    }

    @Test
    void aStepForwardOrBackIsReportedOnceWithItsSize() {
        clock.advance(Duration.ofSeconds(10));
        clock.stepWall(Duration.ofHours(2));
        assertThat(watch.check()).contains(Duration.ofHours(2));
        assertThat(watch.check()).as("reported once").isEmpty();
        clock.stepWall(Duration.ofMinutes(-90));
        clock.advance(Duration.ofSeconds(1));
        assertThat(watch.check()).contains(Duration.ofMinutes(-90));
    }

    @Test
    void slewingBelowTheThresholdIsNotAStepButItsSumIs() {
        for (int i = 0; i < 9; i++) {
            clock.stepWall(Duration.ofMillis(100)); // NTP slews at most 500 ppm: 100 ms takes minutes
            clock.advance(Duration.ofMinutes(4));
            assertThat(watch.check()).isEmpty();
        }
        clock.stepWall(Duration.ofMillis(100));
        assertThat(watch.check()).as("the drift adds up to the threshold").contains(Duration.ofSeconds(1));
    }
}
