package dev.meshauth.agent.k8s;

import dev.meshauth.policy.endpoint.ReservedIdentity;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Watches CiliumIdentity objects (as Cilium allocates them) with a fabric8 informer and keeps the set of
 * security identities. A malformed object (a name that is not an identity number) is reported and
 * skipped; the watch goes on. Listeners hear the full set after every change, once the informer has
 * synced: acting on a partial list would delete entries that merely have not been listed yet.
 */
public final class IdentityWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(IdentityWatch.class);

    private final Map<String, Long> byName = new ConcurrentHashMap<>();
    // Every object our handler has processed (malformed ones included): "synced" also waits for these,
    // because the informer reports synced before its handler has seen the initial list.
    private final Set<String> handled = ConcurrentHashMap.newKeySet();
    private final Consumer<Set<Long>> listener;
    private final SharedIndexInformer<GenericKubernetesResource> informer;

    private IdentityWatch(KubernetesClient client, Duration resync, RelistGrace grace, Consumer<Set<Long>> listener) {
        this.listener = listener;
        this.informer = client.genericKubernetesResources(CiliumResources.IDENTITY).inform(grace.guard(new ResourceEventHandler<>() {
            @Override
            public void onAdd(GenericKubernetesResource r) {
                put(r);
            }

            @Override
            public void onUpdate(GenericKubernetesResource old, GenericKubernetesResource r) {
                put(r);
            }

            @Override
            public void onDelete(GenericKubernetesResource r, boolean finalStateUnknown) {
                handled.remove(r.getMetadata().getName());
                if (byName.remove(r.getMetadata().getName()) != null) {
                    changed();
                }
            }
        }), resync.toMillis());
    }

    /** Starts the informer; {@code listener} gets the identity set after each change once synced. */
    public static IdentityWatch start(KubernetesClient client, Duration resync, Consumer<Set<Long>> listener) {
        return start(client, resync, RelistGrace.none(), listener);
    }

    /** As above, with deletes a relist infers held for {@code grace}. */
    public static IdentityWatch start(KubernetesClient client, Duration resync, RelistGrace grace,
            Consumer<Set<Long>> listener) {
        return new IdentityWatch(client, resync, grace, listener);
    }

    private void put(GenericKubernetesResource r) {
        String name = r.getMetadata().getName();
        boolean changed = store(name);
        handled.add(name);
        if (changed) {
            changed();
        }
    }

    /** Records the identity; true if the set changed. */
    private boolean store(String name) {
        long id;
        try {
            id = Long.parseLong(name);
        } catch (NumberFormatException e) {
            LOG.atWarn().setMessage("skipping CiliumIdentity with a non-numeric name")
                    .addKeyValue("name", name)
                    .log();
            return false;
        }
        if (id <= 0 || id > 0xFFFF_FFFFL || ReservedIdentity.isReserved(id)) {
            LOG.atWarn().setMessage("skipping CiliumIdentity outside the allocatable range 256..2^32-1")
                    .addKeyValue("name", name)
                    .log();
            return false;
        }
        return !Long.valueOf(id).equals(byName.put(name, id));
    }

    private void changed() {
        if (informer != null && synced()) {
            listener.accept(identities());
        }
    }

    /** True once the informer has listed every object and our handler has processed them all. */
    public boolean synced() {
        if (informer == null || !informer.hasSynced()) {
            return false;
        }
        return handled.size() >= informer.getStore().list().size();
    }

    /** The current identities. */
    public Set<Long> identities() {
        return new TreeSet<>(byName.values());
    }

    @Override
    public void close() {
        informer.close();
    }
}
