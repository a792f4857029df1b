package dev.meshauth.agent.auth;

import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.events.FailureReason;
import dev.meshauth.agent.events.Origin;
import dev.meshauth.agent.handshake.HandshakeException;
import dev.meshauth.agent.handshake.HandshakeResult;
import dev.meshauth.agent.time.Clocks;
import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CompletionException;
import java.util.concurrent.CompletionStage;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.TimeoutException;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Runs one request: what may be tried (auth type, known node, SVIDs not removed, a signal not racing our
 * own fresh write), the handshake with its deadline, and what its result means: written (kernel first,
 * then cache, then the event) or failed with a {@link FailureReason}, retried when trying again can help.
 */
final class Authentication implements RequestQueue.Handler {
    static final Duration HANDSHAKE_DEADLINE = Duration.ofSeconds(30);

    private final AuthMapCache cache;
    private final Authenticator authenticator;
    private final NodeDirectory nodes;
    private final Clocks time;
    private final Duration signalBackoff;
    private final Removals removals;
    private final Consumer<AuthEvent> events;
    private final Runnable beforeStore;
    final AtomicLong succeeded = new AtomicLong();
    final AtomicLong failed = new AtomicLong();

    Authentication(AuthMapCache cache, Authenticator authenticator, NodeDirectory nodes, Clocks time, Duration signalBackoff,
            Removals removals, Consumer<AuthEvent> events, Runnable beforeStore) {
        this.cache = cache;
        this.authenticator = authenticator;
        this.nodes = nodes;
        this.time = time;
        this.signalBackoff = signalBackoff;
        this.removals = removals;
        this.events = events;
        this.beforeStore = beforeStore;
    }

    @Override
    public CompletionStage<RequestQueue.Outcome> handle(RequestQueue.Request r) {
        AuthKey k = r.key();
        if (r.origin() == Origin.SIGNAL && cache.get(k).filter(s -> Duration.between(s.storedAt(), time.clock().instant())
                .compareTo(signalBackoff) < 0).isPresent() && cache.inKernel(k)) {
            return settled(RequestQueue.Outcome.COALESCED); // stored moments ago and still there: it raced our write
        }
        if (k.authType().equals(AuthType.TEST_ALWAYS_FAIL)) {
            return settled(failed(r, FailureReason.TEST_ALWAYS_FAIL, "auth type test-always-fail never succeeds", 0, false));
        }
        if (!k.authType().equals(AuthType.SPIRE)) {
            return settled(failed(r, FailureReason.UNKNOWN_AUTH_TYPE, "unknown auth type " + k.authType()
                    + ": this agent knows spire (1) and test-always-fail (2)", 0, false));
        }
        Optional<InetSocketAddress> peer = nodes.agentAddress(k.remoteNodeId());
        if (peer.isEmpty()) {
            return settled(failed(r, FailureReason.UNKNOWN_NODE, "unknown remote node id " + k.remoteNodeId()
                    + ": is the node in the endpoints file or CiliumNode list?", 0, true));
        }
        long removalsAtStart = removals.now(); // before the check: a removal from here on discards the result
        Optional<Long> gone = removals.removedOf(k);
        if (gone.isPresent()) {
            return settled(failed(r, FailureReason.SVID_REMOVED, "SPIRE removed the SVID of " + gone.get()
                    + "; not authenticated until it is issued again", 0, false));
        }
        long start = time.ticker().getAsLong();
        CompletableFuture<HandshakeResult> f = authenticator.authenticate(k.localIdentity(), k.remoteIdentity(), peer.get());
        ScheduledFuture<?> deadline = time.scheduler().schedule(() -> f.completeExceptionally(new TimeoutException(
                "no handshake result within " + HANDSHAKE_DEADLINE.toSeconds() + " s")), HANDSHAKE_DEADLINE.toNanos(),
                TimeUnit.NANOSECONDS);
        return f.handle((res, err) -> {
            deadline.cancel(false);
            long took = time.ticker().getAsLong() - start;
            return err == null ? store(r, res, removalsAtStart, took) : handshakeFailed(r, err, took);
        });
    }

    private RequestQueue.Outcome store(RequestQueue.Request r, HandshakeResult res, long removalsAtStart, long took) {
        AuthKey k = r.key();
        try {
            synchronized (removals.lock) {
                if (removals.removedSince(k, removalsAtStart)) {
                    return failed(r, FailureReason.SVID_REMOVED,
                            "an SVID of the pair was removed while the handshake ran; nothing written", took, false);
                }
                beforeStore.run();
                cache.put(k, res.expiresAt(), res.anchors(), r.origin(), time.clock().instant());
            }
        } catch (BpfException e) {
            return failed(r, FailureReason.AUTH_MAP_WRITE, e.getMessage(), took, true);
        }
        succeeded.incrementAndGet();
        events.accept(new AuthEvent.HandshakeSucceeded(time.clock().instant(), k, r.origin(), Duration.ofNanos(took),
                Duration.ofNanos(time.ticker().getAsLong() - r.queuedNanos()), res.expiresAt()));
        return RequestQueue.Outcome.DONE;
    }

    private RequestQueue.Outcome handshakeFailed(RequestQueue.Request r, Throwable err, long took) {
        Throwable c = err instanceof CompletionException && err.getCause() != null ? err.getCause() : err;
        FailureReason reason = switch (c) {
            case HandshakeException he -> he.reason();
            case TimeoutException te -> FailureReason.TIMEOUT;
            default -> FailureReason.INTERNAL;
        };
        return failed(r, reason, String.valueOf(c.getMessage()), took, true);
    }

    private static CompletionStage<RequestQueue.Outcome> settled(RequestQueue.Outcome o) {
        return CompletableFuture.completedFuture(o);
    }

    private RequestQueue.Outcome failed(RequestQueue.Request r, FailureReason reason, String detail, long nanos, boolean retry) {
        failed.incrementAndGet();
        events.accept(new AuthEvent.HandshakeFailed(time.clock().instant(), r.key(), r.origin(), reason, detail,
                Duration.ofNanos(nanos)));
        return retry ? RequestQueue.Outcome.RETRY : RequestQueue.Outcome.DONE;
    }
}
