package dev.meshauth.agent.auth;

import dev.meshauth.agent.events.Origin;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.spire.retry.Backoff;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executor;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * Authentication requests. Datapath signals go to Cilium's auth manager queue: bounded
 * ({@code --mesh-auth-queue-size}), counted when full (a dropped signal comes back with the next dropped
 * packet), logged at most once per {@link #DROP_REPORT_EVERY_NANOS}. Work the agent derives itself (policy,
 * rotation, refresh, repair, retries) goes to a backlog that never drops: one entry per key, so it is
 * bounded by the keys the agent knows (required pairs and cached entries), and a rotation storm over 10,000
 * identities is worked off instead of lost. Signals are taken first: traffic is waiting for them. At most one in
 * flight per key (a second request for a key queued or in flight is coalesced; a rotation marks one whose
 * handshake has started to run once more afterwards, since it may use the old SVID; a queued one will run
 * with the new SVID anyway; so does a signal, since the entry the started handshake writes, or wrote moments
 * ago, may be what the datapath found missing since: the rerun is a signal, and cheap if the entry is
 * there), at most {@code workers} in flight
 * at once, and one pending retry per key with jittered backoff, cancelled when the key succeeds. A request
 * starts on the executor and holds its slot until the stage its handler returned completes (on whichever
 * thread completes it), so no thread waits on a handshake.
 */
final class RequestQueue {
    private static final Logger LOG = LoggerFactory.getLogger(RequestQueue.class);

    /** One request; {@code queuedNanos} on the ticker. */
    record Request(AuthKey key, Origin origin, long queuedNanos) {
    }

    /** What handling a request came to: settled, to be retried, or not run (a duplicate of fresh work). */
    enum Outcome { DONE, RETRY, COALESCED }

    /** Handles one request: starts on the executor, completes when the request is settled. */
    @FunctionalInterface
    interface Handler {
        java.util.concurrent.CompletionStage<Outcome> handle(Request r);
    }

    /** How often a full signal queue is told in the log (every drop is counted). */
    static final long DROP_REPORT_EVERY_NANOS = TimeUnit.SECONDS.toNanos(10);
    private final LinkedBlockingQueue<Request> queue;
    private final java.util.concurrent.ConcurrentLinkedQueue<Request> backlog = new java.util.concurrent.ConcurrentLinkedQueue<>();
    private final AtomicLong droppedUntold = new AtomicLong();
    private final AtomicLong lastDropReport = new AtomicLong(Long.MIN_VALUE);
    private final Set<AuthKey> pending = ConcurrentHashMap.newKeySet();
    /** Keys to run once more when their request settles, with the origin to run it as (a signal first). */
    private final Map<AuthKey, Origin> again = new ConcurrentHashMap<>();
    /** Keys whose handshake has started: only those may have used an SVID that rotated since. */
    private final Set<AuthKey> running = ConcurrentHashMap.newKeySet();
    private final Map<AuthKey, Backoff> backoffs = new ConcurrentHashMap<>();
    private final Map<AuthKey, ScheduledFuture<?>> retries = new ConcurrentHashMap<>();
    private final AtomicInteger inFlight = new AtomicInteger();
    private final int workers;
    private final Executor executor;
    private final ScheduledExecutorService scheduler;
    private final LongSupplier ticker;
    private final Supplier<Backoff> backoff;
    private final Handler handler;
    private final AtomicLong dropped = new AtomicLong();
    private final AtomicLong coalesced = new AtomicLong();
    private volatile boolean closed;

    RequestQueue(int capacity, int workers, Executor executor, ScheduledExecutorService scheduler, LongSupplier ticker,
            Supplier<Backoff> backoff, Handler handler) {
        this.queue = new LinkedBlockingQueue<>(capacity);
        this.workers = workers;
        this.executor = executor;
        this.scheduler = scheduler;
        this.ticker = ticker;
        this.backoff = backoff;
        this.handler = handler;
    }

    /** Queues {@code key}; false if it was coalesced, dropped, or the queue is closed. */
    boolean offer(AuthKey key, Origin origin) {
        if (closed) {
            return false;
        }
        if (!pending.add(key)) {
            if ((origin == Origin.ROTATION || origin == Origin.SIGNAL) && running.contains(key)) { // a queued one will do
                again.merge(key, origin, (was, now) -> was == Origin.SIGNAL ? was : now);
            }
            coalesced.incrementAndGet();
            return false;
        }
        Request r = new Request(key, origin, ticker.getAsLong());
        if (origin != Origin.SIGNAL) {
            backlog.add(r);
        } else if (!queue.offer(r)) {
            pending.remove(key);
            dropped.incrementAndGet();
            droppedUntold.incrementAndGet();
            reportDrops(key);
            return false;
        }
        drain();
        return true;
    }

    /** The first drop, then at most one line per {@link #DROP_REPORT_EVERY_NANOS} with the count since. */
    private void reportDrops(AuthKey key) {
        long now = ticker.getAsLong();
        long last = lastDropReport.get();
        boolean toldRecently = last != Long.MIN_VALUE && now - last < DROP_REPORT_EVERY_NANOS;
        if (toldRecently || !lastDropReport.compareAndSet(last, now)) { // or another thread tells it
            return;
        }
        LOG.atWarn().addKeyValue("key", key).addKeyValue("dropped", droppedUntold.getAndSet(0))
                .addKeyValue("queue_size", queue.remainingCapacity() + queue.size())
                .log("auth signal queue full, signals dropped; the datapath signals again on the next dropped packet;"
                        + " raise --mesh-auth-queue-size if this persists");
    }

    /** If {@code key} is queued or in flight, runs it once more afterwards (what it runs with has changed). */
    void rerunIfPending(AuthKey key) {
        if (pending.contains(key)) {
            again.putIfAbsent(key, Origin.ROTATION);
        }
    }

    /** True while {@code key} is queued or in flight. */
    boolean pending(AuthKey key) {
        return pending.contains(key);
    }

    /** Keys queued or in flight. */
    Set<AuthKey> pendingKeys() {
        return Set.copyOf(pending);
    }

    private void drain() {
        while (!closed) {
            int n = inFlight.get();
            if (n >= workers || queue.isEmpty() && backlog.isEmpty()) {
                return;
            }
            if (!inFlight.compareAndSet(n, n + 1)) {
                continue;
            }
            Request polled = queue.poll();
            Request r = polled != null ? polled : backlog.poll();
            if (r == null) {
                settled();
                continue;
            }
            try {
                executor.execute(() -> start(r));
            } catch (RejectedExecutionException e) {
                pending.remove(r.key());
                settled(); // closing
                return;
            }
        }
    }

    private void start(Request r) {
        java.util.concurrent.CompletionStage<Outcome> stage;
        running.add(r.key());
        try {
            stage = handler.handle(r);
        } catch (RuntimeException | Error e) {
            LOG.atError().addKeyValue("key", r.key()).addKeyValue("error", e.toString()).log("auth request handler failed");
            stage = java.util.concurrent.CompletableFuture.completedFuture(Outcome.RETRY);
        }
        stage.whenComplete((o, t) -> {
            try {
                finish(r, t == null ? o : Outcome.RETRY);
            } finally {
                settled();
                drain();
            }
        });
    }

    private void settled() {
        synchronized (inFlight) {
            if (inFlight.decrementAndGet() == 0) {
                inFlight.notifyAll();
            }
        }
    }

    private void finish(Request r, Outcome o) {
        running.remove(r.key());
        pending.remove(r.key());
        if (o == Outcome.COALESCED) {
            coalesced.incrementAndGet();
        }
        if (o == Outcome.RETRY) {
            retry(r.key());
        } else {
            succeededOrSettled(r.key());
        }
        Origin rerun = again.remove(r.key());
        if (rerun != null) {
            offer(r.key(), rerun);
        }
    }

    private void succeededOrSettled(AuthKey k) {
        backoffs.remove(k);
        ScheduledFuture<?> stale = retries.remove(k);
        if (stale != null) {
            stale.cancel(false); // nothing left for an earlier failure's retry to do
        }
    }

    /** Schedules one retry of {@code k}; a retry already scheduled for it stands. */
    private void retry(AuthKey k) {
        if (closed) {
            return;
        }
        retries.compute(k, (key, scheduled) -> {
            if (scheduled != null && !scheduled.isDone()) {
                return scheduled;
            }
            Duration d = backoffs.computeIfAbsent(k, x -> backoff.get()).next();
            try {
                return scheduler.schedule(() -> {
                    retries.remove(k);
                    offer(k, Origin.RETRY);
                }, d.toNanos(), TimeUnit.NANOSECONDS);
            } catch (RejectedExecutionException e) {
                return null; // closing
            }
        });
    }

    /** Signals dropped because the signal queue was full. */
    long dropped() {
        return dropped.get();
    }

    /** Requests coalesced into one in flight (or skipped as fresh). */
    long coalescedCount() {
        return coalesced.get();
    }

    /** Retries waiting. */
    int retriesScheduled() {
        return (int) retries.values().stream().filter(f -> !f.isDone()).count();
    }

    /** Stops taking requests and drops those queued; requests in flight go on until they settle. */
    void close() {
        closed = true;
        retries.values().forEach(f -> f.cancel(false));
        queue.clear();
        backlog.clear();
    }

    /** Waits up to {@code timeout} for the requests in flight to settle; false if some still run. */
    boolean awaitIdle(Duration timeout) throws InterruptedException {
        long deadline = System.nanoTime() + timeout.toNanos();
        synchronized (inFlight) {
            while (inFlight.get() > 0) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    return false;
                }
                TimeUnit.NANOSECONDS.timedWait(inFlight, left);
            }
            return true;
        }
    }
}
