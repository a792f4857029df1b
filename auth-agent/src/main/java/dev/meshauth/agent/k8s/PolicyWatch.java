package dev.meshauth.agent.k8s;

import dev.meshauth.policy.PolicyException;
import dev.meshauth.policy.model.Policy;
import dev.meshauth.policy.yaml.PolicyParser;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import io.fabric8.kubernetes.client.informers.SharedIndexInformer;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.function.Consumer;

/**
 * Watches CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy objects and keeps the parsed set. Each
 * object goes through the same parser as files; one that fails keeps its last good version in force (or
 * none, if it never had one), and the problem is logged with the object's name and the field.
 */
public final class PolicyWatch implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(PolicyWatch.class);

    private final KubernetesClient client;
    private final Map<String, List<Policy>> byObject = new ConcurrentHashMap<>();
    private final Map<String, String> problems = new ConcurrentHashMap<>();
    private final java.util.Set<String> handled = ConcurrentHashMap.newKeySet(); // see IdentityWatch
    private final Consumer<List<Policy>> listener;
    private final List<SharedIndexInformer<GenericKubernetesResource>> informers = new ArrayList<>();

    private PolicyWatch(KubernetesClient client, Duration resync, RelistGrace grace, Consumer<List<Policy>> listener) {
        this.client = client;
        this.listener = listener;
        informers.add(client.genericKubernetesResources(CiliumResources.NETWORK_POLICY).inAnyNamespace()
                .inform(grace.guard(handler()), resync.toMillis()));
        informers.add(client.genericKubernetesResources(CiliumResources.CLUSTERWIDE_POLICY)
                .inform(grace.guard(handler()), resync.toMillis()));
    }

    /** Starts both informers. */
    public static PolicyWatch start(KubernetesClient client, Duration resync, Consumer<List<Policy>> listener) {
        return start(client, resync, RelistGrace.none(), listener);
    }

    /** As above, with deletes a relist infers held for {@code grace}. */
    public static PolicyWatch start(KubernetesClient client, Duration resync, RelistGrace grace, Consumer<List<Policy>> listener) {
        return new PolicyWatch(client, resync, grace, listener);
    }

    private ResourceEventHandler<GenericKubernetesResource> handler() {
        return new ResourceEventHandler<>() {
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
                String key = key(r);
                handled.remove(key);
                problems.remove(key);
                if (byObject.remove(key) != null) {
                    changed();
                }
            }
        };
    }

    private static String key(GenericKubernetesResource r) {
        String ns = r.getMetadata().getNamespace();
        return r.getKind() + "/" + (ns == null ? "" : ns + "/") + r.getMetadata().getName();
    }

    private void put(GenericKubernetesResource r) {
        String key = key(r);
        try {
            String yaml = client.getKubernetesSerialization().asYaml(r);
            List<Policy> parsed = PolicyParser.parse("k8s:" + key, yaml).policies();
            problems.remove(key);
            byObject.put(key, parsed);
            handled.add(key);
            changed();
        } catch (PolicyException e) {
            problems.put(key, e.getMessage());
            LOG.atError().setMessage("policy refused, its last good version (if any) stays in force")
                    .addKeyValue("object", key)
                    .addKeyValue("problems", e.getMessage().replace('\n', ';'))
                    .log();
        } finally {
            handled.add(key);
        }
    }

    private void changed() {
        if (synced()) {
            listener.accept(policies());
        }
    }

    /** True once both informers have listed every object. */
    public boolean synced() {
        return informers.size() == 2 && informers.stream().allMatch(SharedIndexInformer::hasSynced)
                && handled.size() >= informers.stream().mapToInt(i -> i.getStore().list().size()).sum();
    }

    /** The policies in force. */
    public List<Policy> policies() {
        List<Policy> out = new ArrayList<>();
        byObject.values().forEach(out::addAll);
        return out;
    }

    /** Objects currently refused, with why. */
    public Map<String, String> problems() {
        return Map.copyOf(problems);
    }

    @Override
    public void close() {
        informers.forEach(SharedIndexInformer::close);
    }
}
