package dev.meshauth.agent.auth;

import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.events.GcReason;
import dev.meshauth.agent.events.Origin;
import dev.meshauth.agent.time.Clocks;
import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthMap;
import dev.meshauth.spire.retry.Backoff;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.Instant;
import java.util.EnumMap;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executor;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * Keeps the auth map full of the identity pairs that need it: on demand (auth-required signals), ahead
 * of traffic (the pairs policies require), before expiry (refresh), on rotation and after the kernel map
 * diverged (repair); deletes on SVID removal, bundle change and by garbage collection.
 *
 * <p>The parts, along Cilium's seams: {@link RequestQueue} (queue, workers, retries, one in flight per
 * key), {@link AuthMapCache} (kernel first, then cache; restore; reading the kernel back) and
 * {@link GcRules} (pure). This class decides what to request and what a result means. An SVID removal
 * and a handshake result's store are ordered by one lock, so no interleaving leaves an entry of a removed
 * SVID.
 */
public final class AuthManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AuthManager.class);
    private static final long MIN_ALLOCATED = 256;

    /**
     * An entry of the kernel map, with what this agent knows of it.
     *
     * @param origin    why it was last authenticated; empty if someone else wrote it since the last GC
     * @param storedAt  when it was written or first seen
     * @param anchors   the bundle roots it was authenticated under; empty if unknown
     */
    public record Held(AuthKey key, Optional<Origin> origin, Instant storedAt, Instant expiresAt, Set<String> anchors) {
    }

    /** Counters, for status and metrics. */
    public record Stats(long succeeded, long failed, long dropped, long coalesced, long reservedSkipped, int cached,
            int pending, long repaired, Map<GcReason, Long> gcDeleted) {
    }

    private final AuthMapCache cache;
    private final Clocks time;
    private final AuthManagerOptions options;
    private final Consumer<AuthEvent> events;
    private final Removals removals = new Removals();
    private final Authentication authentication;
    private final RequestQueue queue;
    private final ScheduledFuture<?> refreshTick;
    private volatile Set<AuthKey> required = Set.of();
    private volatile IdentityIndex requiredIndex = new IdentityIndex();
    private Set<AuthKey> requiredFrom; // the set last given to setRequired, guarded by this
    private final AtomicLong reservedSkipped = new AtomicLong();
    private final AtomicLong repaired = new AtomicLong();
    private final Map<GcReason, AtomicLong> gcDeleted = new EnumMap<>(GcReason.class);

    /**
     * Restores the cache from {@code map} and starts the refresh tick on {@code time}'s scheduler;
     * handshakes run on {@code workers} (at most {@link AuthManagerOptions#workers()} at once).
     *
     * @param events receives every handshake result and deletion, after the kernel write (quick consumers only)
     * @throws BpfException if the map cannot be read
     */
    public AuthManager(AuthMap map, Authenticator authenticator, NodeDirectory nodes, Clocks time, Executor workers,
            AuthManagerOptions options, RandomGenerator random, Consumer<AuthEvent> events) throws BpfException {
        this(map, authenticator, nodes, time, workers, options, random, events, () -> { });
    }

    /** As above, with {@code beforeStore} run inside the store step, after its removal check (tests). */
    AuthManager(AuthMap map, Authenticator authenticator, NodeDirectory nodes, Clocks time, Executor workers,
            AuthManagerOptions options, RandomGenerator random, Consumer<AuthEvent> events, Runnable beforeStore)
            throws BpfException {
        this.cache = new AuthMapCache(map);
        this.time = time;
        this.options = options;
        this.events = events;
        for (GcReason r : GcReason.values()) {
            gcDeleted.put(r, new AtomicLong());
        }
        int restored = cache.restore(time.clock().instant());
        LOG.atInfo().addKeyValue("entries", restored).addKeyValue("map", map.location())
                .log("auth cache restored from the auth map");
        this.authentication = new Authentication(cache, authenticator, nodes, time, options.signalBackoff(), removals, events,
                beforeStore);
        this.queue = new RequestQueue(options.queueSize(), options.workers(), workers, time.scheduler(), time.ticker(),
                () -> new Backoff(options.retryMin(), options.retryMax(), random), authentication);
        this.refreshTick = time.scheduler().scheduleWithFixedDelay(this::refreshDue, 1, 1, TimeUnit.SECONDS);
    }

    /**
     * True when an entry stored at {@code storedAt} and expiring at {@code expiresAt} should be re-authenticated
     * now: within {@code refreshBefore} of its expiry, but not before half its lifetime (SVIDs living shorter
     * than {@code refreshBefore} would otherwise be redone at every tick).
     */
    static boolean refreshDue(Instant storedAt, Instant expiresAt, Instant now, Duration refreshBefore) {
        Duration halfLife = Duration.between(storedAt, expiresAt).dividedBy(2);
        Duration lead = refreshBefore.compareTo(halfLife) < 0 ? refreshBefore : halfLife;
        return !now.isBefore(expiresAt.minus(lead));
    }

    /** Queues {@code key}; returns false if it was skipped, coalesced or dropped. */
    public boolean request(AuthKey key, Origin origin) {
        if (key.localIdentity() < MIN_ALLOCATED || key.remoteIdentity() < MIN_ALLOCATED) {
            reservedSkipped.incrementAndGet();
            return false;
        }
        return queue.offer(key, origin);
    }

    /**
     * The keys current policies require: missing ones are authenticated now, ahead of traffic (unless
     * not {@link AuthManagerOptions#proactive()}: then they only guide garbage collection and refresh).
     */
    public synchronized void setRequired(Set<AuthKey> keys) {
        if (keys != requiredFrom) { // the same set object again (the cluster view did not change): nothing to index
            required = Set.copyOf(keys);
            requiredIndex = IdentityIndex.of(required);
            requiredFrom = keys;
        }
        if (options.proactive()) {
            keys.stream().filter(k -> cache.get(k).isEmpty()).forEach(k -> request(k, Origin.POLICY));
        }
    }

    /**
     * {@code identity}'s SVID is held now (it arrived or rotated): the required pairs involving it that are
     * missing are authenticated ahead of traffic (when proactive), without a pass over every required pair.
     */
    public void identityReady(long identity) {
        if (options.proactive()) {
            requiredIndex.involving(identity).stream().filter(k -> cache.get(k).isEmpty())
                    .forEach(k -> request(k, Origin.POLICY));
        }
    }

    /** An identity's SVID rotated: re-authenticate every entry involving it. */
    public void svidRotated(long identity) {
        cache.keysInvolving(identity).forEach(k -> request(k, Origin.ROTATION));
    }

    /**
     * An identity's SVID arrived (again): pairs involving it may be authenticated again, and one in flight
     * since before a removal runs once more after it (its result is discarded).
     */
    public void svidAdded(long identity) {
        if (removals.clear(identity)) { // a handshake in flight since before the removal writes nothing: redo it
            queue.pendingKeys().stream().filter(k -> involves(k, identity)).forEach(queue::rerunIfPending);
        }
    }

    /**
     * The SVIDs held now are {@code held}: entries whose local identity is not among them cannot be
     * authenticated again and are deleted ({@code svid-removed}), as {@link #svidRemoved} does for a removal
     * seen as it happened.
     *
     * @return entries deleted
     */
    public int localSvidsMissing(Set<Long> held) {
        int deleted = 0;
        synchronized (removals.lock) {
            for (AuthKey k : cache.keys()) {
                if (!held.contains(k.localIdentity())) {
                    removals.mark(k.localIdentity());
                    delete(k, GcReason.SVID_REMOVED);
                    deleted++;
                }
            }
        }
        return deleted;
    }

    /** An identity's SVID was removed: delete every entry involving it; none is written until it is back. */
    public void svidRemoved(long identity) {
        svidRemoved(identity, false);
    }

    /**
     * An identity's SVID was removed ({@code stillListed} false: SPIRE no longer issues it; delete every entry
     * involving it, as Cilium does, and write none until it is back), or this node's copy is no longer usable
     * although SPIRE still lists it ({@code stillListed}: expired, its spire-agent cut off from the server).
     * Then only entries where it is the local identity go: an entry where it is the remote one was made with
     * the certificate the peer presented, and its expiry is already bounded by that certificate's.
     */
    public void svidRemoved(long identity, boolean stillListed) {
        synchronized (removals.lock) {
            if (!stillListed) {
                removals.mark(identity);
                cache.keysInvolving(identity).forEach(k -> delete(k, GcReason.SVID_REMOVED));
                return;
            }
            // Not marked removed: as a remote identity it is the peer's to prove with its own certificate, and
            // as a local one the handshake finds no SVID by itself.
            cache.keysInvolving(identity).stream().filter(k -> k.localIdentity() == identity)
                    .forEach(k -> delete(k, GcReason.SVID_REMOVED));
        }
    }

    /**
     * The trust bundle changed: entries authenticated under a root that is gone are deleted; entries whose
     * roots are unknown (restored from the map) are re-authenticated under the new bundle.
     *
     * @param roots fingerprints ({@link dev.meshauth.agent.handshake.TrustAnchors}) of the bundle's roots now
     * @return entries deleted
     */
    public int bundleChanged(Set<String> roots) {
        Map<AuthKey, Set<String>> anchors = new HashMap<>();
        cache.snapshot().forEach((k, s) -> anchors.put(k, s.anchors()));
        Set<AuthKey> lost = GcRules.rootLost(anchors, roots);
        lost.forEach(k -> delete(k, GcReason.CA_REMOVED));
        anchors.forEach((k, a) -> {
            if (a.isEmpty()) {
                request(k, Origin.ROTATION);
            }
        });
        return lost.size();
    }

    /**
     * Reads the kernel map back (it is the truth: what diverged behind our back is adopted, and required
     * pairs it lost or changed are re-authenticated), then deletes what {@link GcRules} judge gone.
     *
     * @return deletions by reason
     */
    public Map<GcReason, Integer> collectGarbage(GcScope scope) throws BpfException {
        Instant now = time.clock().instant();
        AuthMapCache.Divergence d = cache.reconcile(now, queue.pendingKeys());
        if (!d.none()) {
            LOG.atWarn().addKeyValue("vanished", d.vanished().size()).addKeyValue("changed", d.changed().size())
                    .addKeyValue("adopted", d.adopted().size()).addKeyValue("map", cache.location())
                    .log("the kernel auth map diverged from what this agent wrote: required pairs are re-authenticated");
        }
        Map<AuthKey, Instant> expiries = new HashMap<>();
        cache.snapshot().forEach((k, s) -> expiries.put(k, s.expiresAt()));
        Map<GcReason, Integer> out = new EnumMap<>(GcReason.class);
        GcRules.judge(expiries, scope, required, now).forEach((k, reason) -> {
            delete(k, reason);
            out.merge(reason, 1, Integer::sum);
        });
        Set<AuthKey> repair = new HashSet<>(d.vanished());
        repair.addAll(d.changed());
        for (AuthKey k : required) {
            if (repair.contains(k) || (options.proactive() && cache.get(k).isEmpty())) {
                if (request(k, repair.contains(k) ? Origin.REPAIR : Origin.POLICY) && repair.contains(k)) {
                    repaired.incrementAndGet();
                }
            }
        }
        return out;
    }

    private static boolean involves(AuthKey k, long identity) {
        return k.localIdentity() == identity || k.remoteIdentity() == identity;
    }

    /** Deletes from the kernel map, then the cache, then tells: an event always follows the write it reports. */
    private void delete(AuthKey k, GcReason reason) {
        try {
            cache.delete(k);
            gcDeleted.get(reason).incrementAndGet();
            events.accept(new AuthEvent.EntryDeleted(time.clock().instant(), k, reason));
        } catch (BpfException e) {
            LOG.atError().addKeyValue("key", k).addKeyValue("reason", reason.label()).addKeyValue("error", e.getMessage())
                    .log("deleting an auth entry failed; the next GC tries again");
        }
    }

    private void refreshDue() {
        Instant now = time.clock().instant();
        for (AuthKey k : required) {
            cache.get(k).filter(s -> refreshDue(s.storedAt(), s.expiresAt(), now, options.refreshBefore()))
                    .ifPresent(s -> request(k, Origin.REFRESH));
        }
    }

    /** What the kernel map holds now, with this agent's knowledge of each entry (status reads the truth). */
    public List<Held> held() throws BpfException {
        Map<AuthKey, AuthMapCache.Stored> known = cache.snapshot();
        Instant now = time.clock().instant();
        return cache.kernel().entrySet().stream().map(e -> {
            AuthMapCache.Stored s = known.get(e.getKey());
            boolean ours = s != null && s.info().equals(e.getValue());
            return new Held(e.getKey(), ours ? Optional.of(s.origin()) : Optional.empty(), ours ? s.storedAt() : now,
                    e.getValue().expiresAt(), ours ? s.anchors() : Set.of());
        }).toList();
    }

    /** Required keys the kernel map lacks or holds expired (pending or failing), read from the kernel. */
    public Set<AuthKey> missing() throws BpfException {
        return missing(held());
    }

    /** Required keys that {@code held} (a {@link #held()} snapshot) lacks or holds expired. */
    public Set<AuthKey> missing(List<Held> held) {
        Instant now = time.clock().instant();
        Set<AuthKey> valid = new HashSet<>();
        held.stream().filter(h -> AuthInfo.expiringAt(h.expiresAt()).isValidAt(now)).forEach(h -> valid.add(h.key()));
        Set<AuthKey> out = new HashSet<>(required);
        out.removeAll(valid);
        return out;
    }

    /** A snapshot of the counters. */
    public Stats stats() {
        Map<GcReason, Long> gc = new EnumMap<>(GcReason.class);
        gcDeleted.forEach((r, v) -> gc.put(r, v.get()));
        return new Stats(authentication.succeeded.get(), authentication.failed.get(), queue.dropped(), queue.coalescedCount(), reservedSkipped.get(),
                cache.size(), queue.pendingKeys().size(), repaired.get(), gc);
    }

    /**
     * Takes no more requests and waits up to the handshake deadline for those in flight to settle (their
     * results are written); the caller then shuts the workers' executor down.
     */
    @Override
    public void close() {
        refreshTick.cancel(false);
        queue.close();
        try {
            if (!queue.awaitIdle(Authentication.HANDSHAKE_DEADLINE)) {
                LOG.atWarn().addKeyValue("waited", Authentication.HANDSHAKE_DEADLINE).log("handshakes still in flight at close are cut");
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }
}
