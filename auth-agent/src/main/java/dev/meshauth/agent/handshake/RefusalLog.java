package dev.meshauth.agent.handshake;

import java.net.InetAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.Map;
import java.util.OptionalLong;

/**
 * How often a refusal is told (logged, and published as an event): the first from a peer for a reason at
 * once, then at most one report per {@code every}, carrying how many like it were held back meanwhile. A
 * flood of 10,000 bad connections is then a handful of lines, not 10,000, and the event history keeps the
 * rest of what happened. Counting is not limited: the listener counts every refusal. At most
 * {@code maxKeys} peer and reason pairs are tracked; past that, refusals share one key ("any peer").
 */
final class RefusalLog {
    private record Key(InetAddress peer, InboundRefusal reason) {
    }

    private static final class Entry {
        Instant last;
        long held;
    }

    private final InstantSource clock;
    private final Duration every;
    private final int maxKeys;
    private final Map<Key, Entry> entries = new HashMap<>();

    RefusalLog(InstantSource clock, Duration every, int maxKeys) {
        this.clock = clock;
        this.every = every;
        this.maxKeys = maxKeys;
    }

    /**
     * Whether to tell of this refusal now: if so, how many like it were held back since the last report
     * (0 for the first); empty if it is held back.
     */
    synchronized OptionalLong report(InetAddress peer, InboundRefusal reason) {
        Instant now = clock.instant();
        Key key = new Key(peer, reason);
        if (!entries.containsKey(key) && entries.size() >= maxKeys) {
            key = new Key(null, reason);
            entries.keySet().removeIf(k -> entries.get(k).last.plus(every).isBefore(now)); // forget the quiet ones
        }
        Entry e = entries.computeIfAbsent(key, k -> new Entry());
        if (e.last == null || !now.isBefore(e.last.plus(every))) {
            long held = e.held;
            e.last = now;
            e.held = 0;
            return OptionalLong.of(held);
        }
        e.held++;
        return OptionalLong.empty();
    }

    /** Peer and reason pairs tracked now. */
    synchronized int tracked() {
        return entries.size();
    }
}
