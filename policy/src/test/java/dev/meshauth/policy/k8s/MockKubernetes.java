package dev.meshauth.policy.k8s;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;

import java.util.HashMap;

/**
 * fabric8's mock API server in CRUD mode, with a client: the test API server of this project.
 *
 * <p>Closing closes the client, then the server. The mock server's shutdown waits (10 s) for the
 * client's sockets and intermittently gives up with "Unable to close MockWebServer" although every
 * watch was closed; that one teardown timeout of the fake server is tolerated here, and only that one
 * (any other failure propagates). It happens after the test's assertions and changes no result.
 */
public final class MockKubernetes implements AutoCloseable {
    private final KubernetesMockServer server;
    private final KubernetesClient client;

    /** Starts a server on a free local port. */
    public MockKubernetes() {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(),
                false);
        server.init();
        client = server.createClient();
    }

    /** The client. */
    public KubernetesClient client() {
        return client;
    }

    @Override
    public void close() {
        client.close();
        try {
            server.destroy();
        } catch (IllegalStateException e) {
            if (!"Unable to close MockWebServer".equals(e.getMessage())) {
                throw e;
            }
        }
    }
}
