package dev.meshauth.agent.auth;

import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.handshake.HandshakeException;
import dev.meshauth.agent.handshake.HandshakeResult;
import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthEntry;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthMap;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.spire.delegated.Backoff;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.EnumMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.random.RandomGenerator;

/**
 * Keeps the auth map full of the identity pairs that need it: authenticates on demand (auth-required
 * signals), ahead of traffic (the keys current policies require), before expiry (refresh), on rotation;
 * deletes on SVID removal and by garbage collection.
 *
 * <p>Per key: reserved identities are never authenticated; one handshake at a time (a pending set);
 * a bounded queue that counts what it drops; a signal for a key stored less than the signal backoff ago
 * is coalesced, unless the entry vanished from the kernel map (someone deleted it: re-created, cilium#27183);
 * failures are retried with jittered backoff instead of waiting for the next dropped packet. Writes go to
 * the kernel map first, then to the cache; at start the cache is restored from the map.
 */
public final class AuthManager implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(AuthManager.class);
    private static final long MIN_ALLOCATED = 256;

    /** Why a key was authenticated; RESTORED: found in the pinned map when the agent started. */
    public enum Origin { SIGNAL, POLICY, REFRESH, ROTATION, RETRY, RESTORED;

        /** The lower-case label used in events and JSON. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /**
     * An entry this manager holds (status API).
     *
     * @param key       the identity pair
     * @param origin    why it was last authenticated
     * @param storedAt  when it was written (for restored entries: when the agent started)
     * @param expiresAt its expiry
     * @param anchors   the bundle roots it was authenticated under; empty if restored
     */
    public record Held(AuthKey key, Origin origin, Instant storedAt, Instant expiresAt, Set<String> anchors) {
    }

    /** A cached entry: what we wrote, when, and under which bundle roots (empty: unknown, restored from the map). */
    private record Stored(Instant storedAt, Instant expiresAt, Set<String> anchors, Origin origin) {
    }

    private record Request(AuthKey key, Origin origin, long queuedNanos) {
    }

    private final AuthMap map;
    private final Authenticator authenticator;
    private final NodeDirectory nodes;
    private final InstantSource clock;
    private final AuthManagerOptions options;
    private final RandomGenerator random;
    private final Consumer<AuthEvent> events;
    private final LinkedBlockingQueue<Request> queue;
    private final Set<AuthKey> pending = ConcurrentHashMap.newKeySet();
    private final Set<AuthKey> again = ConcurrentHashMap.newKeySet();
    private final Map<AuthKey, Stored> cache = new ConcurrentHashMap<>();
    private final Map<AuthKey, Backoff> retries = new ConcurrentHashMap<>();
    private final Map<AuthKey, java.util.concurrent.ScheduledFuture<?>> scheduledRetries = new ConcurrentHashMap<>();
    private final Map<Long, Long> removed = new ConcurrentHashMap<>(); // identity -> nanoTime its SVID was removed
    // Orders an SVID removal against a handshake result's store: "not removed since the handshake began,
    // so write" and "mark removed, then delete its entries" are each atomic under it, so no interleaving
    // leaves an entry of a removed SVID.
    private final Object removals = new Object();
    private final Runnable beforeStore; // a test seam inside the store step; a no-op in production
    private volatile Set<AuthKey> required = Set.of();
    private final ScheduledExecutorService scheduler = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("meshauth-auth-scheduler").factory());
    private final List<Thread> workers;
    private volatile boolean closed;

    private final AtomicLong succeeded = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong coalesced = new AtomicLong();
    private final AtomicLong reservedSkipped = new AtomicLong();
    private final Map<GcReason, AtomicLong> gcDeleted = new EnumMap<>(GcReason.class);

    /**
     * Restores the cache from {@code map} and starts the workers and the refresh tick.
     *
     * @param events receives every handshake result and deletion (quick consumers only)
     * @throws BpfException if the map cannot be read
     */
    public AuthManager(AuthMap map, Authenticator authenticator, NodeDirectory nodes, InstantSource clock,
            AuthManagerOptions options, RandomGenerator random, Consumer<AuthEvent> events) throws BpfException {
        this(map, authenticator, nodes, clock, options, random, events, () -> { });
    }

    /** As above, with {@code beforeStore} run inside the store step, after its removal check (tests). */
    AuthManager(AuthMap map, Authenticator authenticator, NodeDirectory nodes, InstantSource clock,
            AuthManagerOptions options, RandomGenerator random, Consumer<AuthEvent> events, Runnable beforeStore)
            throws BpfException {
        this.beforeStore = beforeStore;
        this.map = map;
        this.authenticator = authenticator;
        this.nodes = nodes;
        this.clock = clock;
        this.options = options;
        this.random = random;
        this.events = events;
        this.queue = new LinkedBlockingQueue<>(options.queueSize());
        for (GcReason r : GcReason.values()) {
            gcDeleted.put(r, new AtomicLong());
        }
        Instant now = clock.instant();
        for (AuthEntry e : map.entries()) {
            cache.put(e.key(), new Stored(now, e.info().expiresAt(), Set.of(), Origin.RESTORED));
        }
        LOG.info("auth cache restored from the auth map: entries={} map={}", cache.size(), map.location());
        this.workers = java.util.stream.IntStream.range(0, options.workers())
                .mapToObj(i -> Thread.ofVirtual().name("meshauth-auth-worker-" + i).start(this::work)).toList();
        scheduler.scheduleWithFixedDelay(this::refreshDue, 1, 1, TimeUnit.SECONDS);
    }

    /**
     * True when an entry stored at {@code storedAt} and expiring at {@code expiresAt} should be re-authenticated
     * now: within {@code refreshBefore} of its expiry, but not before half its lifetime. Without that floor an
     * entry whose SVIDs live shorter than {@code refreshBefore} (SPIRE lets an entry or server set any
     * x509_svid_ttl) would be due at every tick: a handshake per pair per second.
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
        if (!pending.add(key)) {
            if (origin == Origin.ROTATION) {
                again.add(key); // the handshake in flight may use the old SVID: run once more after it
            }
            coalesced.incrementAndGet();
            return false;
        }
        if (!queue.offer(new Request(key, origin, System.nanoTime()))) {
            pending.remove(key);
            dropped.incrementAndGet();
            LOG.warn("auth queue full, request dropped: key={} queue_size={}", key, options.queueSize());
            return false;
        }
        return true;
    }

    /**
     * The keys current policies require: missing ones are authenticated now, ahead of traffic (unless
     * not {@link AuthManagerOptions#proactive()}: then they only guide garbage collection and refresh).
     */
    public void setRequired(Set<AuthKey> keys) {
        required = Set.copyOf(keys);
        if (!options.proactive()) {
            return;
        }
        for (AuthKey k : keys) {
            if (!cache.containsKey(k)) {
                request(k, Origin.POLICY);
            }
        }
    }

    /** An identity's SVID rotated: re-authenticate every entry involving it. */
    public void svidRotated(long identity) {
        for (AuthKey k : cache.keySet()) {
            if (k.localIdentity() == identity || k.remoteIdentity() == identity) {
                request(k, Origin.ROTATION);
            }
        }
    }

    /**
     * An identity's SVID arrived (again): pairs involving it may be authenticated again. Until then, a
     * removed identity is never authenticated, and a handshake that was in flight when it was removed
     * writes nothing.
     */
    public void svidAdded(long identity) {
        removed.remove(identity);
    }

    /** An identity's SVID was removed: delete every entry involving it. */
    public void svidRemoved(long identity) {
        synchronized (removals) {
            removed.put(identity, System.nanoTime());
            for (AuthKey k : Set.copyOf(cache.keySet())) {
                if (k.localIdentity() == identity || k.remoteIdentity() == identity) {
                    delete(k, GcReason.SVID_REMOVED);
                }
            }
        }
    }

    /**
     * The trust bundle changed: entries authenticated under a root that is gone are deleted; entries
     * whose roots are unknown (restored from the map after a restart) are re-authenticated, so they hold
     * only if the peer still proves itself under the new bundle.
     *
     * @param roots fingerprints ({@link dev.meshauth.agent.handshake.TrustAnchors}) of the bundle's roots now
     * @return entries deleted
     */
    public int bundleChanged(Set<String> roots) {
        int deleted = 0;
        for (Map.Entry<AuthKey, Stored> e : Set.copyOf(cache.entrySet())) {
            Set<String> anchors = e.getValue().anchors();
            if (anchors.isEmpty()) {
                request(e.getKey(), Origin.ROTATION);
            } else if (!roots.containsAll(anchors)) {
                delete(e.getKey(), GcReason.CA_REMOVED);
                deleted++;
            }
        }
        return deleted;
    }

    /**
     * Garbage collection: expired entries, entries of unknown nodes, of deleted identities, of local
     * identities with no endpoint here, and of pairs no policy requires; a rule whose input is not synced
     * yet is skipped.
     *
     * @return deletions by reason
     */
    public Map<GcReason, Integer> collectGarbage(GcScope scope) throws BpfException {
        Instant now = clock.instant();
        Map<GcReason, Integer> out = new EnumMap<>(GcReason.class);
        Set<AuthKey> keys = new HashSet<>(cache.keySet());
        for (AuthEntry e : map.entries()) {
            keys.add(e.key());
            cache.putIfAbsent(e.key(), new Stored(now, e.info().expiresAt(), Set.of(), Origin.RESTORED));
        }
        for (AuthKey k : keys) {
            Stored s = cache.get(k);
            GcReason reason = null;
            if (s != null && !now.isBefore(s.expiresAt())) {
                reason = GcReason.EXPIRED;
            } else if (k.remoteNodeId() != 0 && !scope.nodeIds().contains(k.remoteNodeId())) {
                reason = GcReason.NODE_DELETED;
            } else if (scope.identities().isPresent() && !(scope.identities().get().contains(k.localIdentity())
                    && scope.identities().get().contains(k.remoteIdentity()))) {
                reason = GcReason.IDENTITY_DELETED;
            } else if (scope.localIdentities().isPresent() && !scope.localIdentities().get().contains(k.localIdentity())) {
                reason = GcReason.NO_LOCAL_ENDPOINT;
            } else if (scope.requiredKnown() && !required.contains(k)) {
                reason = GcReason.NOT_REQUIRED;
            }
            if (reason != null) {
                delete(k, reason);
                out.merge(reason, 1, Integer::sum);
            }
        }
        return out;
    }

    /** Deletes from the kernel map, then the cache, then tells: an event always follows the write it reports. */
    private void delete(AuthKey k, GcReason reason) {
        try {
            map.delete(k);
            cache.remove(k);
            gcDeleted.get(reason).incrementAndGet();
            events.accept(new AuthEvent.EntryDeleted(clock.instant(), k, reason)); // logged by the event's subscribers
        } catch (BpfException e) {
            LOG.error("deleting an auth entry failed: key={} error=\"{}\"", k, e.getMessage());
        }
    }

    private void refreshDue() {
        Instant now = clock.instant();
        for (AuthKey k : required) {
            Stored s = cache.get(k);
            if (s != null && refreshDue(s.storedAt(), s.expiresAt(), now, options.refreshBefore())) {
                request(k, Origin.REFRESH);
            }
        }
    }

    private void work() {
        while (!closed) {
            Request r;
            try {
                r = queue.poll(200, TimeUnit.MILLISECONDS);
            } catch (InterruptedException e) {
                return;
            }
            if (r != null) {
                try {
                    handle(r);
                } finally {
                    pending.remove(r.key());
                    if (again.remove(r.key())) {
                        request(r.key(), Origin.ROTATION);
                    }
                }
            }
        }
    }

    private void handle(Request r) {
        AuthKey k = r.key();
        if (r.origin() == Origin.SIGNAL) {
            Stored s = cache.get(k);
            if (s != null && Duration.between(s.storedAt(), clock.instant()).compareTo(options.signalBackoff()) < 0
                    && presentInMap(k)) {
                coalesced.incrementAndGet();
                return;
            }
        }
        if (k.authType().equals(AuthType.TEST_ALWAYS_FAIL)) {
            failed(r, "TEST_ALWAYS_FAIL", "auth type test-always-fail never succeeds", 0);
            return;
        }
        if (!k.authType().equals(AuthType.SPIRE)) {
            failed(r, "UNKNOWN_AUTH_TYPE", "unknown auth type " + k.authType(), 0);
            LOG.error("cannot authenticate: unknown auth type {} for local={} remote={}: this agent knows spire (1) and"
                    + " test-always-fail (2)", k.authType(), k.localIdentity(), k.remoteIdentity());
            return;
        }
        Optional<InetSocketAddress> peer = nodes.agentAddress(k.remoteNodeId());
        if (peer.isEmpty()) {
            failed(r, "UNKNOWN_NODE", "unknown remote node id " + k.remoteNodeId(), 0);
            LOG.error("cannot authenticate: unknown remote node id {} for local={} remote={}: is the node in the"
                    + " endpoints file or CiliumNode list?", k.remoteNodeId(), k.localIdentity(), k.remoteIdentity());
            retry(k);
            return;
        }
        if (removed.containsKey(k.localIdentity()) || removed.containsKey(k.remoteIdentity())) {
            failed(r, "SVID_REMOVED", "SPIRE removed the SVID of " + (removed.containsKey(k.localIdentity())
                    ? k.localIdentity() : k.remoteIdentity()) + "; not authenticated until it is issued again", 0);
            return;
        }
        long start = System.nanoTime();
        try {
            HandshakeResult res = authenticator.authenticate(k.localIdentity(), k.remoteIdentity(), peer.get())
                    .get(30, TimeUnit.SECONDS);
            long handshakeNanos = System.nanoTime() - start;
            synchronized (removals) {
                if (removedSince(k.localIdentity(), start) || removedSince(k.remoteIdentity(), start)) {
                    failed(r, "SVID_REMOVED", "an SVID of the pair was removed while the handshake ran; nothing written",
                            handshakeNanos);
                    return;
                }
                beforeStore.run();
                map.put(k, AuthInfo.expiringAt(res.expiresAt()));
                cache.put(k, new Stored(clock.instant(), res.expiresAt(), res.anchors(), r.origin()));
            }
            long end = System.nanoTime();
            retries.remove(k);
            java.util.concurrent.Future<?> stale = scheduledRetries.remove(k);
            if (stale != null) {
                stale.cancel(false); // authenticated: an earlier failure's retry has nothing left to do
            }
            succeeded.incrementAndGet();
            events.accept(new AuthEvent.HandshakeSucceeded(clock.instant(), k, r.origin(), Duration.ofNanos(handshakeNanos),
                    Duration.ofNanos(end - r.queuedNanos()), res.expiresAt()));
        } catch (BpfException e) {
            failed(r, "AUTH_MAP_WRITE", e.getMessage(), System.nanoTime() - start);
            LOG.error("writing the auth map failed: key={} error=\"{}\"", k, e.getMessage());
            retry(k);
        } catch (java.util.concurrent.ExecutionException | java.util.concurrent.TimeoutException e) {
            Throwable c = e.getCause() == null ? e : e.getCause();
            String reason = c instanceof HandshakeException he ? he.reason().name() : c.getClass().getSimpleName();
            failed(r, reason, String.valueOf(c.getMessage()), System.nanoTime() - start);
            retry(k);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private boolean removedSince(long identity, long nanos) {
        Long at = removed.get(identity);
        return at != null && at - nanos >= 0;
    }

    private void failed(Request r, String reason, String detail, long nanos) {
        failed.incrementAndGet();
        events.accept(new AuthEvent.HandshakeFailed(clock.instant(), r.key(), r.origin(), reason, detail, Duration.ofNanos(nanos)));
    }

    private boolean presentInMap(AuthKey k) {
        try {
            return map.get(k).isPresent();
        } catch (BpfException e) {
            return false;
        }
    }

    /** Schedules one retry of {@code k}; a retry already scheduled for it stands (failures do not multiply them). */
    private void retry(AuthKey k) {
        if (closed) {
            return;
        }
        scheduledRetries.compute(k, (key, pendingRetry) -> {
            if (pendingRetry != null && !pendingRetry.isDone()) {
                return pendingRetry;
            }
            Backoff b = retries.computeIfAbsent(k, x -> new Backoff(options.retryMin(), options.retryMax(), random));
            return scheduler.schedule(() -> {
                scheduledRetries.remove(k);
                request(k, Origin.RETRY);
            }, b.next().toMillis(), TimeUnit.MILLISECONDS);
        });
    }

    /** Counters, for status and metrics. */
    public record Stats(long succeeded, long failed, long dropped, long coalesced, long reservedSkipped, int cached,
            int pending, Map<GcReason, Long> gcDeleted) {
    }

    /** The entries held, in no particular order. */
    public List<Held> held() {
        return cache.entrySet().stream().map(e -> new Held(e.getKey(), e.getValue().origin(), e.getValue().storedAt(),
                e.getValue().expiresAt(), e.getValue().anchors())).toList();
    }

    /** Required keys not held yet (pending or failing). */
    public Set<AuthKey> missing() {
        Set<AuthKey> out = new HashSet<>(required);
        out.removeAll(cache.keySet());
        return out;
    }

    /** A snapshot of the counters. */
    public Stats stats() {
        Map<GcReason, Long> gc = new EnumMap<>(GcReason.class);
        gcDeleted.forEach((r, v) -> gc.put(r, v.get()));
        return new Stats(succeeded.get(), failed.get(), dropped.get(), coalesced.get(), reservedSkipped.get(), cache.size(),
                pending.size(), gc);
    }

    /** Stops the workers (in-flight handshakes finish or time out); the auth map and its entries stay. */
    @Override
    public void close() {
        closed = true;
        scheduler.shutdownNow();
        for (Thread t : workers) {
            try {
                t.join(5_000);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
    }
}
