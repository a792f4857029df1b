package dev.meshauth.agent.operator;

import dev.meshauth.spire.entry.EntryRegistrar;
import dev.meshauth.spire.entry.NodeRef;
import dev.meshauth.spire.entry.ReconcileResult;
import dev.meshauth.spire.entry.Registration;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Function;

/**
 * The operator role: SPIRE entries follow where identities are (their {@link Source}), laid out by the
 * registrar's layout, a node's entries kept for the {@link PlacementGrace} after they stop being wanted.
 * Once the source has synced it runs a full reconcile (so entries of identities deleted while the operator
 * was down are removed: Cilium leaks them, cilium#29357), then one after every change, coalesced, one when
 * a grace ends, and one on a fixed interval as a safety net. A failed reconcile is retried on the next
 * change or tick. One thread does all of it.
 */
public final class EntryOperator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(EntryOperator.class);

    /** Where identities are: each with the nodes hosting an endpoint of it (empty where placement is unknown). */
    public interface Source extends AutoCloseable {
        /** True once the source has listed everything (acting on a partial list would delete entries). */
        boolean synced();

        /** Identity -> nodes hosting it. */
        Map<Long, Set<NodeRef>> hosts();

        @Override
        void close();
    }

    private final EntryRegistrar registrar;
    private final PlacementGrace grace;
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("meshauth-operator").factory());
    private final AtomicBoolean queued = new AtomicBoolean();
    private final InstantSource clock;
    private final Source source;
    private volatile ReconcileResult last;
    private java.util.concurrent.ScheduledFuture<?> wake; // the loop's only: the reconcile when the next grace ends

    private EntryOperator(Function<Runnable, Source> sourceFactory, EntryRegistrar registrar, PlacementGrace grace,
            InstantSource clock, Duration resyncEvery) {
        this.registrar = registrar;
        this.grace = grace;
        this.clock = clock;
        this.source = sourceFactory.apply(this::changed);
        loop.scheduleWithFixedDelay(this::changed, 100, resyncEvery.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Starts the operator: {@code sourceFactory} starts the source with the callback to run on each change.
     *
     * @param grace how long a node keeps an identity's entry once it stopped hosting it
     */
    public static EntryOperator start(Function<Runnable, Source> sourceFactory, EntryRegistrar registrar, Duration grace,
            InstantSource clock, Duration resyncEvery) {
        return new EntryOperator(sourceFactory, registrar, new PlacementGrace(grace, clock), clock, resyncEvery);
    }

    private void changed() {
        if (queued.compareAndSet(false, true)) {
            loop.execute(this::reconcile);
        }
    }

    private void reconcile() {
        queued.set(false);
        if (!source.synced()) {
            return;
        }
        try {
            Set<Registration> wanted = registrar.layout().registrations(source.hosts());
            var existing = registrar.owned();
            last = registrar.reconcile(grace.keep(wanted, existing.keySet()), existing);
            if (wake != null) {
                wake.cancel(false);
            }
            wake = grace.nextExpiry(wanted).map(at -> loop.schedule(this::changed,
                    Math.max(1, Duration.between(clock.instant(), at).toMillis()), TimeUnit.MILLISECONDS)).orElse(null);
        } catch (RuntimeException e) {
            LOG.atError().setMessage("SPIRE entry reconcile failed, will retry")
                    .addKeyValue("error", e.getMessage())
                    .log();
        }
    }

    /** The last reconcile's result, or null before the first. */
    public ReconcileResult lastResult() {
        return last;
    }

    @Override
    public void close() {
        loop.shutdownNow();
        source.close();
    }
}
