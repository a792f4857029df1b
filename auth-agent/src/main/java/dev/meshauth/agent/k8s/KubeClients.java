package dev.meshauth.agent.k8s;

import io.fabric8.kubernetes.client.Config;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.KubernetesClientBuilder;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Optional;

/** Kubernetes clients for the agent and the operator, built without touching JVM-wide system properties. */
public final class KubeClients {
    private KubeClients() {
    }

    /**
     * A client from {@code kubeconfig}, or, when empty, from the in-cluster service account
     * ($KUBECONFIG and ~/.kube/config outside a cluster).
     *
     * @throws IOException if the kubeconfig file cannot be read
     */
    public static KubernetesClient create(Optional<Path> kubeconfig) throws IOException {
        Config config;
        if (kubeconfig.isPresent()) {
            Path f = kubeconfig.get();
            if (!Files.isReadable(f)) {
                throw new IOException("kubeconfig " + f + " does not exist or is not readable");
            }
            config = Config.fromKubeconfig(null, dev.meshauth.agent.node.source.SourceFiles.read("kubeconfig", f), f.toString());
        } else {
            config = Config.autoConfigure(null);
        }
        return new KubernetesClientBuilder().withConfig(config).build();
    }
}
