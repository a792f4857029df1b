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
 * Authentication requests (Cilium's auth manager queue): bounded, counted when full, at most one in
 * flight per key (a second request for a key in flight is coalesced; a rotation marks it to run once
 * more afterwards, since the handshake in flight may use the old SVID), at most {@code workers} in flight
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

    private final LinkedBlockingQueue<Request> queue;
    private final Set<AuthKey> pending = ConcurrentHashMap.newKeySet();
    private final Set<AuthKey> again = ConcurrentHashMap.newKeySet();
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
            if (origin == Origin.ROTATION) {
                again.add(key);
            }
            coalesced.incrementAndGet();
            return false;
        }
        if (!queue.offer(new Request(key, origin, ticker.getAsLong()))) {
            pending.remove(key);
            dropped.incrementAndGet();
            LOG.atWarn().addKeyValue("key", key).addKeyValue("queue_size", queue.remainingCapacity() + queue.size())
                    .log("auth queue full, request dropped");
            return false;
        }
        drain();
        return true;
    }

    /** If {@code key} is queued or in flight, runs it once more afterwards (what it runs with has changed). */
    void rerunIfPending(AuthKey key) {
        if (pending.contains(key)) {
            again.add(key);
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
            if (n >= workers || queue.isEmpty()) {
                return;
            }
            if (!inFlight.compareAndSet(n, n + 1)) {
                continue;
            }
            Request r = queue.poll();
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
        pending.remove(r.key());
        if (o == Outcome.COALESCED) {
            coalesced.incrementAndGet();
        }
        if (o == Outcome.RETRY) {
            retry(r.key());
        } else {
            succeededOrSettled(r.key());
        }
        if (again.remove(r.key())) {
            offer(r.key(), Origin.ROTATION);
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

    /** Requests dropped because the queue was full. */
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
