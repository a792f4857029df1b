package dev.meshauth.agent.operator;

import dev.meshauth.spire.entry.Registration;
import dev.meshauth.testing.FakeClock;
import io.spiffe.spiffeid.SpiffeId;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** A node's entry outlives its last endpoint by the grace, on an injected clock; a restart never shortens it. */
class PlacementGraceTest {
    private static final Instant T0 = Instant.parse("2026-12-03T12:00:00Z");
    private static final Registration ON_1 = new Registration(1001, SpiffeId.parse("spiffe://spiffe.cilium/node/node-1"));
    private static final Registration ON_2 = new Registration(1001, SpiffeId.parse("spiffe://spiffe.cilium/node/node-2"));
    private final FakeClock clock = new FakeClock(T0);
    private final PlacementGrace grace = new PlacementGrace(Duration.ofMinutes(1), clock);

    @Test
    void anEntryNoLongerWantedStaysForTheGraceThenGoes() {
        assertThat(grace.keep(Set.of(ON_1), Set.of())).containsExactly(ON_1);
        clock.advance(Duration.ofSeconds(10));
        assertThat(grace.keep(Set.of(ON_1), Set.of(ON_1))).containsExactly(ON_1); // last wanted at T0 + 10 s
        assertThat(grace.keep(Set.of(ON_2), Set.of(ON_1))).as("the pod moved: both for now").containsExactlyInAnyOrder(ON_1, ON_2);
        assertThat(grace.nextExpiry(Set.of(ON_2))).contains(T0.plusSeconds(70));
        clock.advance(Duration.ofSeconds(59));
        assertThat(grace.keep(Set.of(ON_2), Set.of(ON_1, ON_2))).containsExactlyInAnyOrder(ON_1, ON_2);
        clock.advance(Duration.ofSeconds(1));
        assertThat(grace.keep(Set.of(ON_2), Set.of(ON_1, ON_2))).as("a minute after it was last wanted").containsExactly(ON_2);
        assertThat(grace.nextExpiry(Set.of(ON_2))).isEmpty();
    }

    @Test
    void aPodBackWithinTheGraceKeepsItsEntryAndItsGraceStartsAgainWhenItLeavesAgain() {
        grace.keep(Set.of(ON_1), Set.of());
        clock.advance(Duration.ofSeconds(50));
        grace.keep(Set.of(), Set.of(ON_1));
        clock.advance(Duration.ofSeconds(5));
        assertThat(grace.keep(Set.of(ON_1), Set.of(ON_1))).as("restarted on the same node").containsExactly(ON_1);
        clock.advance(Duration.ofSeconds(30));
        assertThat(grace.keep(Set.of(), Set.of(ON_1))).as("left again 30 s ago: within a fresh grace").containsExactly(ON_1);
    }

    @Test
    void anEntryFoundAtStartThatIsNotWantedGetsTheWholeGrace() {
        // The operator restarted while a pod was leaving: when it stopped being wanted is unknown.
        assertThat(grace.keep(Set.of(ON_2), Set.of(ON_1))).containsExactlyInAnyOrder(ON_1, ON_2);
        clock.advance(Duration.ofSeconds(59));
        assertThat(grace.keep(Set.of(ON_2), Set.of(ON_1, ON_2))).contains(ON_1);
        clock.advance(Duration.ofSeconds(1));
        assertThat(grace.keep(Set.of(ON_2), Set.of(ON_1, ON_2))).containsExactly(ON_2);
    }

    @Test
    void anEntryWithinItsGraceThatSomeoneElseRemovedIsNotMadeAgain() {
        grace.keep(Set.of(ON_1), Set.of());
        clock.advance(Duration.ofSeconds(10));
        assertThat(grace.keep(Set.of(ON_2), Set.of(ON_2))).as("another replica's grace ended first").containsExactly(ON_2);
    }

    @Test
    void withoutGraceEntriesFollowThePlacementAtOnce() {
        PlacementGrace none = PlacementGrace.none(clock);
        assertThat(none.keep(Set.of(ON_2), Set.of(ON_1))).containsExactly(ON_2);
    }
}
