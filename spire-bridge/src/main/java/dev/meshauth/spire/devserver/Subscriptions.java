package dev.meshauth.spire.devserver;

import io.grpc.stub.ServerCallStreamObserver;
import io.grpc.stub.StreamObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Supplier;

/**
 * Open server streams that re-send their full state whenever identities change (an entry was created,
 * updated or deleted, or an SVID rotated). Full state every time: the SPIFFE Workload API and SPIRE's
 * Delegated Identity API are full-state streams, absent items are removals.
 */
final class Subscriptions {
    private static final Logger LOG = LoggerFactory.getLogger(Subscriptions.class);

    private record Sub<T>(StreamObserver<T> observer, Supplier<T> state) {
        synchronized void send() {
            observer.onNext(state.get());
        }
    }

    private final Set<Sub<?>> subs = ConcurrentHashMap.newKeySet();
    // Changes are coalesced: a burst of entry writes (a batch create of thousands) sends one full state
    // per stream, not one per write, which would be quadratic in the number of entries.
    private final java.util.concurrent.ExecutorService sender = java.util.concurrent.Executors.newSingleThreadExecutor(
            Thread.ofPlatform().daemon().name("dev-spire-streams").factory());
    private final java.util.concurrent.atomic.AtomicBoolean dirty = new java.util.concurrent.atomic.AtomicBoolean();

    /** Sends the first state at once and keeps the stream until the client cancels it. */
    <T> void open(StreamObserver<T> observer, Supplier<T> state) {
        Sub<T> sub = new Sub<>(observer, state);
        if (observer instanceof ServerCallStreamObserver<T> sco) {
            sco.setOnCancelHandler(() -> subs.remove(sub));
        }
        subs.add(sub);
        try {
            sub.send();
        } catch (RuntimeException e) {
            subs.remove(sub);
            throw e;
        }
    }

    /** Schedules a re-send of every stream's full state; bursts of changes coalesce into one. */
    void changed() {
        if (dirty.compareAndSet(false, true)) {
            try {
                sender.execute(this::sendAll);
            } catch (java.util.concurrent.RejectedExecutionException e) {
                // shutting down
            }
        }
    }

    private void sendAll() {
        dirty.set(false);
        for (Sub<?> s : subs) {
            try {
                s.send();
            } catch (io.grpc.StatusRuntimeException e) {
                // The state refused the caller (its delegate entry went): end the stream with why, as SPIRE does.
                subs.remove(s);
                try {
                    s.observer().onError(e);
                } catch (RuntimeException gone) {
                    // already cancelled
                }
            } catch (RuntimeException e) {
                subs.remove(s); // the stream is gone (cancelled or failed)
                LOG.atDebug().setMessage("dropping a stream that failed to send")
                        .addKeyValue("error", e.toString())
                        .log();
            }
        }
    }

    /** Ends every stream (server shutdown). */
    void closeAll() {
        sender.shutdownNow();
        for (Sub<?> s : subs) {
            try {
                s.observer().onCompleted();
            } catch (RuntimeException e) {
                // already gone
            }
        }
        subs.clear();
    }

    int size() {
        return subs.size();
    }
}
