package dev.meshauth.agent.operator;

import dev.meshauth.agent.k8s.IdentityWatch;
import dev.meshauth.spire.entry.EntryRegistrar;
import dev.meshauth.spire.entry.ReconcileResult;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicReference;
import java.util.function.Function;

/**
 * The operator role: SPIRE entries follow CiliumIdentity objects. Once the identity informer has synced
 * it runs a full reconcile (so entries of identities deleted while the operator was down are removed:
 * Cilium leaks them, cilium#29357), then one after every change, coalesced, and again on a fixed
 * interval as a safety net. A failed reconcile is retried on the next change or tick.
 */
public final class IdentityOperator implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IdentityOperator.class);

    private final EntryRegistrar registrar;
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("meshauth-operator").factory());
    private final AtomicReference<Set<Long>> pending = new AtomicReference<>();
    private final IdentityWatch watch;
    private volatile ReconcileResult last;

    private IdentityOperator(Function<java.util.function.Consumer<Set<Long>>, IdentityWatch> watchFactory,
            EntryRegistrar registrar, Duration resyncEvery) {
        this.registrar = registrar;
        this.watch = watchFactory.apply(this::requested);
        loop.scheduleWithFixedDelay(this::tick, 100, resyncEvery.toMillis(), TimeUnit.MILLISECONDS);
    }

    /**
     * Starts the operator: {@code watchFactory} starts the identity watch with the callback it is given
     * (production: {@code l -> IdentityWatch.start(client, resync, l)}).
     */
    public static IdentityOperator start(Function<java.util.function.Consumer<Set<Long>>, IdentityWatch> watchFactory,
            EntryRegistrar registrar, Duration resyncEvery) {
        return new IdentityOperator(watchFactory, registrar, resyncEvery);
    }

    private void requested(Set<Long> identities) {
        if (pending.getAndSet(identities) == null) {
            loop.execute(this::drain);
        }
    }

    private void tick() {
        if (watch.synced()) {
            pending.compareAndSet(null, watch.identities());
            drain();
        }
    }

    private void drain() {
        Set<Long> want = pending.getAndSet(null);
        if (want == null) {
            return;
        }
        try {
            last = registrar.reconcile(want);
        } catch (RuntimeException e) {
            LOG.atError().setMessage("SPIRE entry reconcile failed, will retry")
                    .addKeyValue("identities", want.size())
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
        watch.close();
    }
}
