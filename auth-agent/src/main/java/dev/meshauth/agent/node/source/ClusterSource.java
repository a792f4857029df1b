package dev.meshauth.agent.node.source;

import dev.meshauth.policy.PolicyException;

import java.io.IOException;
import java.util.function.Consumer;

/**
 * Where the agent learns nodes, endpoints, identities and policies: files (standalone) or Kubernetes.
 * Which source is used and which datapath is fed are independent choices.
 */
public sealed interface ClusterSource extends AutoCloseable permits FileSource, KubernetesSource {
    /**
     * Starts watching. Returns the first complete view (waiting until the source is synced); afterwards
     * {@code onChange} gets each new complete view. A later change that cannot be used is reported and
     * the last good view stays.
     *
     * @throws PolicyException if the first view is invalid (nothing starts)
     * @throws IOException     if the source cannot be read or does not sync in time
     */
    ClusterSnapshot start(Consumer<ClusterSnapshot> onChange) throws PolicyException, IOException, InterruptedException;

    /** For logs and errors: "endpoints file F, policies P" or "Kubernetes API at URL". */
    String describe();

    /** Problems with parts of the source currently refused (object or file, and why). */
    java.util.Map<String, String> problems();

    @Override
    void close();
}
