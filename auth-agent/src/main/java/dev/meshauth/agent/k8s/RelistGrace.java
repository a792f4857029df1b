package dev.meshauth.agent.k8s;

import io.fabric8.kubernetes.api.model.HasMetadata;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;

/**
 * Deletions that an informer infers from a relist are believed only after a grace period. A watch
 * event DELETED is the API server saying an object is gone; an object merely missing from a relist (after
 * the API server was unreachable, a watch ended with 410 Gone, or an API server behind a load balancer
 * answered from a stale or partial cache) reaches the handler as a delete with
 * {@code deletedFinalStateUnknown}. Acting on that at once would make the agent un-program endpoints and
 * garbage-collect valid auth entries, and the operator delete SPIRE entries, because of an incomplete
 * view. Such a delete is held: if the object is listed or watched again within the grace it never
 * happened; otherwise it is believed then. Known deletes pass at once.
 *
 * <p>Concurrency: the informer's callbacks and the timer's confirmations for one handler are serialized
 * on that handler.
 */
public final class RelistGrace {
    /** The default: a minute, about an API server restart (and the informer's backoff to it). */
    public static final Duration DEFAULT = Duration.ofMinutes(1);
    private static final Logger LOG = LoggerFactory.getLogger(RelistGrace.class);

    private final Duration grace;
    private final ScheduledExecutorService timer;

    /** Holds inferred deletes for {@code grace} (zero: believes them at once) on {@code timer}. */
    public RelistGrace(Duration grace, ScheduledExecutorService timer) {
        if (grace.isNegative()) {
            throw new IllegalArgumentException("relist grace must not be negative: " + grace);
        }
        this.grace = grace;
        this.timer = timer;
    }

    /** No grace: every delete at once (the operator's one-shot mode, and tests of other things). */
    public static RelistGrace none() {
        return new RelistGrace(Duration.ZERO, null);
    }

    /** {@code inner}, with inferred deletes held. */
    public <T extends HasMetadata> ResourceEventHandler<T> guard(ResourceEventHandler<T> inner) {
        return grace.isZero() ? inner : new Guarded<>(inner);
    }

    private static String key(HasMetadata r) {
        return r.getKind() + "/" + r.getMetadata().getNamespace() + "/" + r.getMetadata().getName();
    }

    private final class Guarded<T extends HasMetadata> implements ResourceEventHandler<T> {
        private final ResourceEventHandler<T> inner;
        private final Map<String, ScheduledFuture<?>> held = new HashMap<>(); // @GuardedBy("this")

        Guarded(ResourceEventHandler<T> inner) {
            this.inner = inner;
        }

        private void listedAgain(T r) {
            ScheduledFuture<?> f = held.remove(key(r));
            if (f != null) {
                f.cancel(false);
                LOG.atInfo().addKeyValue("object", key(r)).log("an object a relist had not listed is back: its delete is dropped");
            }
        }

        @Override
        public synchronized void onAdd(T r) {
            listedAgain(r);
            inner.onAdd(r);
        }

        @Override
        public synchronized void onUpdate(T old, T r) {
            listedAgain(r);
            inner.onUpdate(old, r);
        }

        @Override
        public synchronized void onDelete(T r, boolean finalStateUnknown) {
            String k = key(r);
            if (!finalStateUnknown) {
                ScheduledFuture<?> f = held.remove(k);
                if (f != null) {
                    f.cancel(false);
                }
                inner.onDelete(r, false);
                return;
            }
            if (held.containsKey(k)) {
                return;
            }
            LOG.atInfo().addKeyValue("object", k).addKeyValue("grace", dev.meshauth.spire.config.GoDuration.format(grace))
                    .log("a relist no longer lists an object: it is believed gone after the grace unless it is listed again");
            held.put(k, timer.schedule(() -> confirm(k, r), grace.toNanos(), TimeUnit.NANOSECONDS));
        }

        private synchronized void confirm(String k, T r) {
            if (held.remove(k) != null) {
                LOG.atInfo().addKeyValue("object", k).log("an object missing since a relist is believed gone");
                inner.onDelete(r, true);
            }
        }

        @Override
        public void onNothing() {
            inner.onNothing();
        }

        @Override
        public void onBeforeList(String resourceVersion) {
            inner.onBeforeList(resourceVersion);
        }

        @Override
        public void onList(String resourceVersion, boolean complete) {
            inner.onList(resourceVersion, complete);
        }
    }
}
