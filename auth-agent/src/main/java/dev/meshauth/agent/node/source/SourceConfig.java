package dev.meshauth.agent.node.source;

import dev.meshauth.agent.k8s.KubeClients;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Which {@link ClusterSource} the agent reads: files, or Kubernetes. */
public sealed interface SourceConfig {
    /** Opens the source (nothing is read until it starts). */
    ClusterSource open() throws IOException;

    /**
     * Standalone files.
     *
     * @param endpoints      nodes and endpoints
     * @param policies       policy files or directories
     * @param identitiesFile where label-allocated identities persist (shared with the operator), if any
     */
    record Files(Path endpoints, List<Path> policies, Optional<Path> identitiesFile) implements SourceConfig {
        /** Copies. */
        public Files {
            policies = List.copyOf(policies);
        }

        @Override
        public ClusterSource open() {
            return new FileSource(endpoints, policies, identitiesFile, Duration.ofMillis(250));
        }
    }

    /**
     * The Kubernetes API.
     *
     * @param kubeconfig  a kubeconfig file; empty: in-cluster service account (or $KUBECONFIG, ~/.kube/config)
     * @param syncTimeout how long the informers may take to list everything at start
     */
    record Kubernetes(Optional<Path> kubeconfig, Duration syncTimeout) implements SourceConfig {
        @Override
        public ClusterSource open() throws IOException {
            return new KubernetesSource(KubeClients.create(kubeconfig), syncTimeout, Duration.ofMillis(100));
        }
    }
}
