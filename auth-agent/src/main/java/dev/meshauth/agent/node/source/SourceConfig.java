package dev.meshauth.agent.node.source;

import dev.meshauth.agent.k8s.KubeClients;
import dev.meshauth.policy.nodeid.NodeIdStore;
import dev.meshauth.policy.nodeid.NodeIds;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** Which {@link ClusterSource} the agent reads: files, or Kubernetes. */
public sealed interface SourceConfig {
    /** The agent's log for what its sources report. */
    org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(SourceConfig.class);

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
     * @param nodeIdsFile where this agent's node numbering persists across restarts; empty: for the process's
     *                    life only
     * @param relistGrace {@code --k8s-relist-grace}: how long an object a relist no longer lists is kept before
     *                    it is believed gone
     */
    record Kubernetes(Optional<Path> kubeconfig, Duration syncTimeout, Optional<Path> nodeIdsFile, Duration relistGrace)
            implements SourceConfig {
        /** Node ids for the process's life only, the default relist grace. */
        public Kubernetes(Optional<Path> kubeconfig, Duration syncTimeout) {
            this(kubeconfig, syncTimeout, Optional.empty());
        }

        /** The default relist grace. */
        public Kubernetes(Optional<Path> kubeconfig, Duration syncTimeout, Optional<Path> nodeIdsFile) {
            this(kubeconfig, syncTimeout, nodeIdsFile, dev.meshauth.agent.k8s.RelistGrace.DEFAULT);
        }

        @Override
        public ClusterSource open() throws IOException {
            NodeIds ids = nodeIdsFile.isPresent()
                    ? NodeIds.persistent(new NodeIdStore(nodeIdsFile.get()), Kubernetes::saveFailed) : NodeIds.inMemory();
            return new KubernetesSource(KubeClients.create(kubeconfig), syncTimeout, Duration.ofMillis(100), ids,
                    relistGrace);
        }

        private static void saveFailed(NodeIdStore store, IOException e) {
            LOG.atError().addKeyValue("file", store.file()).addKeyValue("error", e.toString())
                    .log("saving node ids failed: they hold until this agent restarts; check the file's directory");
        }
    }
}
