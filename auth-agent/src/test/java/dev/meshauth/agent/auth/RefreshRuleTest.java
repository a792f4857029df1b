package dev.meshauth.agent.auth;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.time.Instant;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** When an entry is refreshed: within refreshBefore of its expiry, but never before half its lifetime. */
class RefreshRuleTest {
    static Stream<Arguments> refreshRows() {
        Instant t0 = Instant.parse("2026-12-01T00:00:00Z");
        return Stream.of(
                // name, lifetime, age now, refreshBefore, due
                Arguments.of("1 h SVIDs, 10 min old: not yet", t0, Duration.ofHours(1), Duration.ofMinutes(10),
                        Duration.ofMinutes(1), false),
                Arguments.of("1 h SVIDs, 59 min old: within refreshBefore", t0, Duration.ofHours(1), Duration.ofMinutes(59),
                        Duration.ofMinutes(1), true),
                Arguments.of("30 s SVIDs, 2 s old: not every tick", t0, Duration.ofSeconds(30), Duration.ofSeconds(2),
                        Duration.ofMinutes(1), false),
                Arguments.of("30 s SVIDs, 14 s old: before half-life", t0, Duration.ofSeconds(30), Duration.ofSeconds(14),
                        Duration.ofMinutes(1), false),
                Arguments.of("30 s SVIDs, 15 s old: half-life", t0, Duration.ofSeconds(30), Duration.ofSeconds(15),
                        Duration.ofMinutes(1), true),
                Arguments.of("already expired", t0, Duration.ofSeconds(30), Duration.ofSeconds(31), Duration.ofSeconds(5), true));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("refreshRows")
    void refreshIsDueWithinRefreshBeforeButNotBeforeHalfTheLifetime(String name, Instant stored, Duration lifetime,
            Duration age, Duration refreshBefore, boolean due) {
        assertThat(AuthManager.refreshDue(stored, stored.plus(lifetime), stored.plus(age), refreshBefore)).isEqualTo(due);
    }
}
