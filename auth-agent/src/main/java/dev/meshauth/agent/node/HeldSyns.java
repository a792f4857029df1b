package dev.meshauth.agent.node;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.datapath.HeldSyn;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Executor;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Predicate;

/**
 * TCP SYNs the datapath dropped for a missing auth entry, held until their pair is authenticated and then
 * put back where they were dropped, so a reactive-mode connection opens within the handshake's time instead
 * of the kernel's 1 s SYN retransmit (Cilium's design waits for it). A SYN whose pair is already
 * authenticated when it arrives (the entry was written while it travelled) is put back at once.
 *
 * <p>One owner: every change runs on {@code owner} (a single thread), in arrival order. Bounded: at most
 * {@link Limits#perKey()} SYNs per pair and {@link Limits#total()} in all (further ones are not held; the
 * client's retransmit still comes), each for at most {@link Limits#maxAge()} (older ones are dropped when
 * their pair is released: the client has retransmitted or given up by then).
 */
final class HeldSyns {
    private static final Logger LOG = LoggerFactory.getLogger(HeldSyns.class);

    /** Puts a held SYN back where it was dropped. */
    @FunctionalInterface
    interface Reinjector {
        /**
         * @throws BpfException if it cannot be put back (the endpoint's interface is gone)
         */
        void reinject(HeldSyn syn) throws BpfException;
    }

    /**
     * How much is held.
     *
     * @param maxAge how long a SYN is worth putting back
     * @param perKey SYNs held per pair
     * @param total  SYNs held in all
     */
    record Limits(Duration maxAge, int perKey, int total) {
        /** 3 s (the client's first two retransmits), 64 per pair, 4,096 in all (about 1 MiB). */
        static final Limits DEFAULTS = new Limits(Duration.ofSeconds(3), 64, 4096);
    }

    /** What happened to held SYNs so far. */
    record Stats(long held, long reinjected, long expired, long overflowed, long failed) {
    }

    private record Pending(HeldSyn syn, long heldAtNanos) {
    }

    private final Executor owner;
    private final Reinjector out;
    private final Predicate<AuthKey> authenticated;
    private final LongSupplier ticker;
    private final Limits limits;
    private final Map<AuthKey, ArrayDeque<Pending>> pending = new HashMap<>(); // owner thread only
    private int count; // owner thread only
    private final AtomicLong held = new AtomicLong();
    private final AtomicLong reinjected = new AtomicLong();
    private final AtomicLong expired = new AtomicLong();
    private final AtomicLong overflowed = new AtomicLong();
    private final AtomicLong failed = new AtomicLong();

    /**
     * @param authenticated whether a pair has a valid entry now (read on the owner thread)
     * @param ticker        monotonic nanoseconds
     */
    HeldSyns(Executor owner, Reinjector out, Predicate<AuthKey> authenticated, LongSupplier ticker, Limits limits) {
        this.owner = owner;
        this.out = out;
        this.authenticated = authenticated;
        this.ticker = ticker;
        this.limits = limits;
    }

    /** A SYN the datapath handed over (any thread). */
    void held(HeldSyn syn) {
        long at = ticker.getAsLong();
        owner.execute(() -> hold(syn, at));
    }

    /** {@code key} was just authenticated (any thread): its SYNs go back. */
    void authenticated(AuthKey key) {
        owner.execute(() -> release(key));
    }

    Stats stats() {
        return new Stats(held.get(), reinjected.get(), expired.get(), overflowed.get(), failed.get());
    }

    private void hold(HeldSyn syn, long at) {
        held.incrementAndGet();
        if (authenticated.test(syn.key())) {
            put(List.of(syn));
            return;
        }
        if (count >= limits.total()) {
            dropExpired();
        }
        ArrayDeque<Pending> q = pending.get(syn.key());
        if (count >= limits.total() || (q != null && q.size() >= limits.perKey())) {
            overflowed.incrementAndGet();
            return;
        }
        pending.computeIfAbsent(syn.key(), k -> new ArrayDeque<>()).addLast(new Pending(syn, at));
        count++;
    }

    private void release(AuthKey key) {
        ArrayDeque<Pending> q = pending.remove(key);
        if (q == null) {
            return;
        }
        count -= q.size();
        long now = ticker.getAsLong();
        List<HeldSyn> fresh = new ArrayList<>(q.size());
        for (Pending p : q) {
            if (now - p.heldAtNanos() <= limits.maxAge().toNanos()) {
                fresh.add(p.syn());
            } else {
                expired.incrementAndGet();
            }
        }
        put(fresh);
    }

    /** At capacity: forget SYNs too old to be worth putting back, so new ones can be held. */
    private void dropExpired() {
        long now = ticker.getAsLong();
        for (var it = pending.values().iterator(); it.hasNext(); ) {
            ArrayDeque<Pending> q = it.next();
            while (!q.isEmpty() && now - q.peekFirst().heldAtNanos() > limits.maxAge().toNanos()) {
                q.removeFirst();
                count--;
                expired.incrementAndGet();
            }
            if (q.isEmpty()) {
                it.remove();
            }
        }
    }

    private void put(List<HeldSyn> syns) {
        for (HeldSyn syn : syns) {
            try {
                out.reinject(syn);
                reinjected.incrementAndGet();
            } catch (BpfException | RuntimeException e) {
                failed.incrementAndGet();
                LOG.atWarn().addKeyValue("pair", syn.key()).addKeyValue("role", syn.role()).addKeyValue("error", e.getMessage())
                        .log("could not put a held SYN back; the client's retransmit will open the connection");
            }
        }
    }
}
