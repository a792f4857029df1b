package dev.meshauth.agent.auth;

import dev.meshauth.bpf.auth.AuthKey;

import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Identities whose SVID SPIRE removed, and when (a sequence number of removals, so "removed since this
 * handshake began" never depends on two clock readings being equal). Orders a removal against a handshake
 * result's store: "mark removed, then delete its entries" and "not removed since the handshake began,
 * so write" each run under {@link #lock}, so no interleaving leaves an entry of a removed SVID.
 */
final class Removals {
    private final Map<Long, Long> lastRemoved = new ConcurrentHashMap<>(); // kept when the SVID is back
    private final java.util.concurrent.atomic.AtomicLong removalsSoFar = new java.util.concurrent.atomic.AtomicLong();
    private final Set<Long> gone = ConcurrentHashMap.newKeySet();
    final Object lock = new Object();

    /** Where the sequence of removals is now: a handshake notes it when it begins. */
    long now() {
        return removalsSoFar.get();
    }

    /** {@code identity}'s SVID was removed; the caller holds {@link #lock}. */
    void mark(long identity) {
        lastRemoved.put(identity, removalsSoFar.incrementAndGet());
        gone.add(identity);
    }

    /**
     * {@code identity}'s SVID is back: new handshakes may run. A handshake that began before the removal
     * still writes nothing (it may have used the old SVID).
     *
     * @return true if it had been removed
     */
    boolean clear(long identity) {
        return gone.remove(identity);
    }

    /** An identity of {@code k} whose SVID is removed now. */
    Optional<Long> removedOf(AuthKey k) {
        return gone.contains(k.localIdentity()) ? Optional.of(k.localIdentity())
                : gone.contains(k.remoteIdentity()) ? Optional.of(k.remoteIdentity()) : Optional.empty();
    }

    /** True if an SVID of {@code k} was removed after {@link #now()} returned {@code began}; hold {@link #lock}. */
    boolean removedSince(AuthKey k, long began) {
        return since(k.localIdentity(), began) || since(k.remoteIdentity(), began);
    }

    private boolean since(long identity, long began) {
        Long at = lastRemoved.get(identity);
        return at != null && at > began;
    }
}
