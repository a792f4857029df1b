package dev.meshauth.spire.delegated;

import dev.meshauth.spire.grpc.UnixSockets;
import dev.meshauth.spire.retry.Backoff;
import dev.meshauth.spire.svid.WorkloadSvid;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import spire.api.agent.delegatedidentity.v1.DelegatedIdentityGrpc;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509BundlesRequest;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509BundlesResponse;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509SVIDsRequest;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509SVIDsResponse;

import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;

/**
 * Subscribes to SPIRE's Delegated Identity API on the agent's admin socket and keeps the node's
 * workload SVIDs and trust bundle current: {@code SubscribeToX509SVIDs} with the delegate selectors and
 * {@code SubscribeToX509Bundles}, both re-opened with jittered backoff (100 ms to 10 s) when they end.
 * While a stream is down the SVIDs already held are served until they expire.
 *
 * <p>All state changes run on one thread, in order; {@code listener} is called on it.
 */
public final class DelegatedIdentityClient implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DelegatedIdentityClient.class);

    private final DelegatedIdentityOptions options;
    private final InstantSource clock;
    private volatile Consumer<IdentityEvent> listener = e -> { };
    private final ManagedChannel channel;
    private final DelegatedIdentityGrpc.DelegatedIdentityStub stub;
    private final ScheduledExecutorService loop;
    private final ScheduledExecutorService timers; // reconnect delays; the loop itself unless injected
    private final IdentityState state;
    private final Stream svidStream = new Stream("x509-svids");
    private final Stream bundleStream = new Stream("x509-bundles");
    private final AtomicLong reconnects = new AtomicLong();
    private volatile Map<Long, WorkloadSvid> snapshot = Map.of();
    private volatile List<X509Certificate> roots = List.of();
    private volatile boolean closed;
    private final java.util.concurrent.atomic.AtomicReference<SubscribeToX509SVIDsResponse> latestSvids =
            new java.util.concurrent.atomic.AtomicReference<>();

    private DelegatedIdentityClient(DelegatedIdentityOptions options, InstantSource clock, Backoff svidBackoff,
            Backoff bundleBackoff, Optional<ScheduledExecutorService> timers) {
        this.options = options;
        this.clock = clock;
        this.channel = UnixSockets.channel(options.adminSocket(), options.maxMessageBytes());
        this.stub = DelegatedIdentityGrpc.newStub(channel);
        this.loop = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("spire-delegated-identity").factory());
        this.timers = timers.orElse(loop);
        this.state = new IdentityState(options.trustDomain());
        svidStream.backoff = svidBackoff;
        bundleStream.backoff = bundleBackoff;
    }

    /** Starts both subscriptions. */
    public static DelegatedIdentityClient start(DelegatedIdentityOptions options, InstantSource clock,
            Consumer<IdentityEvent> listener) {
        return start(options, clock, Backoff.standard(), Backoff.standard(), listener);
    }

    /** Starts both subscriptions with the given backoffs (tests). */
    public static DelegatedIdentityClient start(DelegatedIdentityOptions options, InstantSource clock, Backoff svidBackoff,
            Backoff bundleBackoff, Consumer<IdentityEvent> listener) {
        DelegatedIdentityClient c = new DelegatedIdentityClient(options, clock, svidBackoff, bundleBackoff, Optional.empty());
        c.subscribe(listener);
        return c;
    }

    /**
     * As above, with reconnect delays timed by {@code timers} (the caller's; a fake clock's scheduler in
     * tests): a stream that went down is reopened when {@code timers} runs the delay, on this client's loop.
     */
    public static DelegatedIdentityClient start(DelegatedIdentityOptions options, InstantSource clock, Backoff svidBackoff,
            Backoff bundleBackoff, ScheduledExecutorService timers, Consumer<IdentityEvent> listener) {
        DelegatedIdentityClient c = new DelegatedIdentityClient(options, clock, svidBackoff, bundleBackoff,
                Optional.of(timers));
        c.subscribe(listener);
        return c;
    }

    /**
     * A client that holds nothing yet and opens no stream until {@link #subscribe}: lets the one who wires
     * it build what consumes its events (which may read it) first.
     */
    public static DelegatedIdentityClient create(DelegatedIdentityOptions options, InstantSource clock) {
        return new DelegatedIdentityClient(options, clock, Backoff.standard(), Backoff.standard(), Optional.empty());
    }

    /** Opens both subscriptions, delivering events to {@code listener}; call once. */
    public void subscribe(Consumer<IdentityEvent> listener) {
        this.listener = listener;
        loop.execute(this::openBundles);
        loop.execute(this::openSvids);
    }

    /** One stream's lifecycle. Fields are touched only on the loop thread. */
    private static final class Stream {
        final String name;
        Backoff backoff;
        ClientCallStreamObserver<?> call;
        boolean up;

        Stream(String name) {
            this.name = name;
        }
    }

    private void openSvids() {
        if (closed) {
            return;
        }
        SubscribeToX509SVIDsRequest req = SubscribeToX509SVIDsRequest.newBuilder().addAllSelectors(options.selectors()).build();
        stub.subscribeToX509SVIDs(req, observer(svidStream, this::onSvids, this::openSvids, latestSvids::set));
    }

    private void openBundles() {
        if (closed) {
            return;
        }
        stub.subscribeToX509Bundles(SubscribeToX509BundlesRequest.getDefaultInstance(),
                observer(bundleStream, this::onBundles, this::openBundles, b -> { }));
    }

    private <T> ClientResponseObserver<Object, T> observer(Stream s, Consumer<T> onMessage, Runnable reopen,
            Consumer<T> onArrival) {
        return new ClientResponseObserver<>() {
            @Override
            public void beforeStart(ClientCallStreamObserver<Object> call) {
                s.call = call;
            }

            @Override
            public void onNext(T value) {
                onArrival.accept(value);
                execute(() -> {
                    if (!s.up) {
                        s.up = true;
                        s.backoff.reset();
                        emit(new IdentityEvent.StreamUp(s.name));
                    }
                    onMessage.accept(value);
                });
            }

            @Override
            public void onError(Throwable t) {
                execute(() -> down(s, describe(t), reopen));
            }

            @Override
            public void onCompleted() {
                execute(() -> down(s, "the SPIRE agent ended the stream", reopen));
            }
        };
    }

    private void execute(Runnable task) {
        try {
            loop.execute(task);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // closing: the stream's last callbacks have nowhere to go, and need none
        }
    }

    private void down(Stream s, String reason, Runnable reopen) {
        if (closed) {
            return;
        }
        s.up = false;
        Duration delay = s.backoff.next();
        reconnects.incrementAndGet();
        LOG.atWarn().setMessage("SPIRE Delegated Identity stream down, reconnecting")
                .addKeyValue("stream", s.name)
                .addKeyValue("admin_socket", options.adminSocket())
                .addKeyValue("retry_in_ms", delay.toMillis())
                .addKeyValue("reason", reason)
                .log();
        try {
            timers.schedule(() -> execute(reopen), delay.toNanos(), TimeUnit.NANOSECONDS);
        } catch (java.util.concurrent.RejectedExecutionException e) {
            // the timers' owner is shutting down: so are we
        }
        emit(new IdentityEvent.StreamDown(s.name, reason)); // after the reopen is scheduled: a listener sees it pending
    }

    private String describe(Throwable t) {
        Status st = Status.fromThrowable(t);
        if (st.getCode() == Status.Code.RESOURCE_EXHAUSTED) {
            return "a full-state update exceeded the " + (options.maxMessageBytes() >> 20) + " MiB message limit ("
                    + st.getDescription() + "): raise the limit (--mesh-auth-spire-max-message-size)";
        }
        if (st.getCode() == Status.Code.UNAVAILABLE) {
            return "cannot reach the SPIRE agent admin socket at " + options.adminSocket()
                    + " (is the SPIRE agent running with admin_socket_path set?): " + st.getDescription();
        }
        if (st.getCode() == Status.Code.PERMISSION_DENIED) {
            return "the SPIRE agent refused us (" + st.getDescription() + "): is this agent's SPIFFE ID in the SPIRE"
                    + " agent's authorized_delegates, and does it have a registration entry?";
        }
        return st.getCode() + ": " + st.getDescription();
    }

    private void onSvids(SubscribeToX509SVIDsResponse update) {
        // Each message is the full state: if newer ones queued up while this thread was busy, only the
        // newest matters (see latestSvids); older ones are skipped, not applied.
        if (latestSvids.compareAndSet(update, null)) {
            publish(state.applySvids(update, clock.instant()));
        }
    }

    private void onBundles(SubscribeToX509BundlesResponse update) {
        Map<String, byte[]> bundles = new HashMap<>();
        update.getCaCertificatesMap().forEach((k, v) -> bundles.put(k, v.toByteArray()));
        publish(state.applyBundle(bundles, clock.instant()));
    }

    private long appliedSeen; // @GuardedBy("the client's thread")

    private void publish(List<IdentityEvent> events) {
        snapshot = state.svids();
        roots = state.roots();
        events.forEach(this::emit);
        if (state.appliedCount() != appliedSeen) {
            appliedSeen = state.appliedCount();
            emit(new IdentityEvent.SvidsHeld(java.util.Set.copyOf(snapshot.keySet())));
        }
    }

    private void emit(IdentityEvent e) {
        if (e instanceof IdentityEvent.SvidRejected r) {
            LOG.atError().setMessage("SVID from SPIRE rejected, keeping the previous one if any")
                    .addKeyValue("spiffe_id", r.spiffeId())
                    .addKeyValue("reason", r.reason())
                    .log();
        }
        try {
            listener.accept(e);
        } catch (RuntimeException ex) {
            LOG.atError().setMessage("identity event listener failed")
                    .addKeyValue("event", e.getClass().getSimpleName())
                    .setCause(ex)
                    .log();
        }
    }

    /** The current, unexpired SVID of {@code identity}. */
    public Optional<WorkloadSvid> svid(long identity) {
        WorkloadSvid s = snapshot.get(identity);
        return s != null && clock.instant().isBefore(s.notAfter()) ? Optional.of(s) : Optional.empty();
    }

    /** All SVIDs held (some may have expired while the stream was down). */
    public Map<Long, WorkloadSvid> svids() {
        return snapshot;
    }

    /** The trust bundle's roots. */
    public List<X509Certificate> roots() {
        return roots;
    }

    /** Stream restarts so far. */
    public long reconnects() {
        return reconnects.get();
    }

    @Override
    public void close() {
        closed = true;
        loop.execute(() -> {
            for (Stream s : List.of(svidStream, bundleStream)) {
                if (s.call != null) {
                    s.call.cancel("client closed", null);
                }
            }
        });
        loop.shutdown();
        try {
            loop.awaitTermination(5, TimeUnit.SECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        channel.shutdownNow();
    }
}
