package dev.meshauth.agent.operator;

import dev.meshauth.spire.entry.Registration;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Keeps a node's identity entry for {@code grace} after the last endpoint of that identity left the node,
 * so a pod that restarts (or is rescheduled onto the same node) keeps its SVID instead of waiting for SPIRE
 * to issue it again. An entry found in SPIRE that was never wanted since this operator started (it was
 * restarted mid-change) starts its grace when first seen: a restart never deletes sooner than the grace.
 * An entry within its grace that someone else removed (another operator replica whose grace ended) is not
 * made again. One owner: the operator's loop.
 */
final class PlacementGrace {
    private final Duration grace;
    private final InstantSource clock;
    private final Map<Registration, Instant> lastWanted = new HashMap<>();

    PlacementGrace(Duration grace, InstantSource clock) {
        if (grace.isNegative()) {
            throw new IllegalArgumentException("the entry grace must not be negative");
        }
        this.grace = grace;
        this.clock = clock;
    }

    /** No grace: entries follow the placement at once (the cluster-wide layout, as Cilium's operator). */
    static PlacementGrace none(InstantSource clock) {
        return new PlacementGrace(Duration.ZERO, clock);
    }

    /**
     * What to register: {@code wanted}, and what was wanted less than the grace ago.
     *
     * @param present the registrations SPIRE holds now
     */
    Set<Registration> keep(Set<Registration> wanted, Set<Registration> present) {
        Instant now = clock.instant();
        wanted.forEach(r -> lastWanted.put(r, now));
        present.forEach(r -> lastWanted.putIfAbsent(r, now));
        Set<Registration> out = new TreeSet<>(wanted);
        lastWanted.entrySet().removeIf(e -> !wanted.contains(e.getKey()) && !now.isBefore(e.getValue().plus(grace)));
        lastWanted.keySet().stream().filter(present::contains).forEach(out::add); // kept, never made again
        return out;
    }

    /** When the next kept registration's grace ends, if one is kept only for its grace. */
    Optional<Instant> nextExpiry(Set<Registration> wanted) {
        return lastWanted.entrySet().stream().filter(e -> !wanted.contains(e.getKey()))
                .map(e -> e.getValue().plus(grace)).min(Instant::compareTo);
    }
}
