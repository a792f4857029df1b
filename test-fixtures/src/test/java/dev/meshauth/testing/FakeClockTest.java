package dev.meshauth.testing;

import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class FakeClockTest {
    private final FakeClock clock = new FakeClock(Instant.parse("2026-12-01T00:00:00Z"));
    private final List<String> ran = new ArrayList<>();

    @Test
    void nothingRunsUntilTimeIsAdvancedAndThenInDueOrderAtItsOwnTime() {
        clock.scheduler().schedule(() -> ran.add("b@" + clock.nanoTime()), 2, TimeUnit.SECONDS);
        clock.scheduler().schedule(() -> ran.add("a@" + clock.nanoTime()), 1, TimeUnit.SECONDS);
        clock.scheduler().execute(() -> ran.add("now"));
        assertThat(ran).isEmpty();
        clock.advance(Duration.ofMillis(1500));
        assertThat(ran).containsExactly("now", "a@1000000000");
        assertThat(clock.instant()).isEqualTo(Instant.parse("2026-12-01T00:00:01.500Z"));
        clock.advance(Duration.ofSeconds(1));
        assertThat(ran).containsExactly("now", "a@1000000000", "b@2000000000");
    }

    @Test
    void aFixedDelayTaskRunsOncePerDelayAndStopsWhenCancelled() {
        ScheduledFuture<?> f = clock.scheduler().scheduleWithFixedDelay(() -> ran.add("tick"), 1, 1, TimeUnit.SECONDS);
        clock.advance(Duration.ofSeconds(3));
        assertThat(ran).hasSize(3);
        assertThat(f.cancel(false)).isTrue();
        clock.advance(Duration.ofSeconds(3));
        assertThat(ran).hasSize(3);
        assertThat(clock.pendingTasks()).isZero();
    }

    @Test
    void aTaskScheduledByATaskWithinTheAdvanceRunsInIt() {
        clock.scheduler().schedule(() -> clock.scheduler().schedule(() -> ran.add("second"), 1, TimeUnit.SECONDS),
                1, TimeUnit.SECONDS);
        clock.advance(Duration.ofSeconds(2));
        assertThat(ran).containsExactly("second");
    }

    @Test
    void aFailingPeriodicTaskRunsNoMoreAndItsFutureHoldsTheFailure() {
        ScheduledFuture<?> f = clock.scheduler().scheduleAtFixedRate(() -> {
            ran.add("x");
            throw new IllegalStateException("boom");
        }, 0, 1, TimeUnit.SECONDS);
        clock.advance(Duration.ofSeconds(5));
        assertThat(ran).hasSize(1);
        assertThatThrownBy(f::get).hasRootCauseMessage("boom");
    }

    @Test
    void aShutDownSchedulerRefusesNewWorkAndDropsWhatWaits() {
        clock.scheduler().schedule(() -> ran.add("late"), 1, TimeUnit.SECONDS);
        clock.scheduler().shutdownNow();
        clock.advance(Duration.ofSeconds(2));
        assertThat(ran).isEmpty();
        assertThatThrownBy(() -> clock.scheduler().execute(() -> { }))
                .isInstanceOf(java.util.concurrent.RejectedExecutionException.class);
    }

    @Test
    void eventuallyNamesWhatDidNotHappen() {
        assertThatThrownBy(() -> Eventually.eventually("the sky falls", Duration.ofMillis(30), () -> false))
                .hasMessageContaining("the sky falls").hasMessageContaining("30 ms");
    }

    @Test
    void aWallStepMovesOnlyTheWallClock() {
        FakeClock c = new FakeClock(Instant.parse("2026-12-01T00:00:00Z"));
        AtomicInteger ran = new AtomicInteger();
        c.scheduler().schedule(ran::incrementAndGet, 10, TimeUnit.SECONDS);
        c.stepWall(Duration.ofHours(-2));
        assertThat(c.instant()).isEqualTo(Instant.parse("2026-11-30T22:00:00Z"));
        assertThat(c.nanoTime()).isZero();
        assertThat(ran).hasValue(0);
        c.advance(Duration.ofSeconds(10));
        assertThat(ran).as("due on the monotonic ticker, not the wall").hasValue(1);
        assertThat(c.instant()).isEqualTo(Instant.parse("2026-11-30T22:00:10Z"));
    }
}
