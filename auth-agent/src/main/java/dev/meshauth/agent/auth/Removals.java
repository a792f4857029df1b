package dev.meshauth.agent.auth;

import dev.meshauth.bpf.auth.AuthKey;

import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Identities whose SVID SPIRE removed, and when (on the ticker). Orders a removal against a handshake
 * result's store: "mark removed, then delete its entries" and "not removed since the handshake began,
 * so write" each run under {@link #lock}, so no interleaving leaves an entry of a removed SVID.
 */
final class Removals {
    private final Map<Long, Long> removed = new ConcurrentHashMap<>();
    final Object lock = new Object();

    /** {@code identity}'s SVID was removed at {@code ticks}; the caller holds {@link #lock}. */
    void mark(long identity, long ticks) {
        removed.put(identity, ticks);
    }

    /** {@code identity}'s SVID is back. */
    void clear(long identity) {
        removed.remove(identity);
    }

    /** An identity of {@code k} whose SVID is removed now. */
    Optional<Long> removedOf(AuthKey k) {
        return removed.containsKey(k.localIdentity()) ? Optional.of(k.localIdentity())
                : removed.containsKey(k.remoteIdentity()) ? Optional.of(k.remoteIdentity()) : Optional.empty();
    }

    /** True if an SVID of {@code k} was removed at or after {@code ticks}; the caller holds {@link #lock}. */
    boolean removedSince(AuthKey k, long ticks) {
        return since(k.localIdentity(), ticks) || since(k.remoteIdentity(), ticks);
    }

    private boolean since(long identity, long ticks) {
        Long at = removed.get(identity);
        return at != null && at - ticks >= 0;
    }
}
