package dev.meshauth.policy.k8s;

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
    private final Consumer<Set<Long>> listener;
    private final SharedIndexInformer<GenericKubernetesResource> informer;

    private IdentityWatch(KubernetesClient client, Duration resync, Consumer<Set<Long>> listener) {
        this.listener = listener;
        this.informer = client.genericKubernetesResources(CiliumResources.IDENTITY).inform(new ResourceEventHandler<>() {
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
                if (byName.remove(r.getMetadata().getName()) != null) {
                    changed();
                }
            }
        }, resync.toMillis());
    }

    /** Starts the informer; {@code listener} gets the identity set after each change once synced. */
    public static IdentityWatch start(KubernetesClient client, Duration resync, Consumer<Set<Long>> listener) {
        return new IdentityWatch(client, resync, listener);
    }

    private void put(GenericKubernetesResource r) {
        String name = r.getMetadata().getName();
        long id;
        try {
            id = Long.parseLong(name);
        } catch (NumberFormatException e) {
            LOG.warn("skipping CiliumIdentity with a non-numeric name: name={}", name);
            return;
        }
        if (id <= 0 || id > 0xFFFF_FFFFL || ReservedIdentity.isReserved(id)) {
            LOG.warn("skipping CiliumIdentity outside the allocatable range 256..2^32-1: name={}", name);
            return;
        }
        if (!Long.valueOf(id).equals(byName.put(name, id))) {
            changed();
        }
    }

    private void changed() {
        if (informer != null && informer.hasSynced()) {
            listener.accept(identities());
        }
    }

    /** True once the informer has listed every object. */
    public boolean synced() {
        return informer.hasSynced();
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
