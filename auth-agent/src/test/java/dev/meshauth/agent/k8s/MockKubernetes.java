package dev.meshauth.agent.k8s;

import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;

import java.util.HashMap;

/**
 * fabric8's mock API server in CRUD mode, with a client: the test API server of this project.
 *
 * <pre>{@code
 * @RegisterExtension
 * static final MockKubernetes api = new MockKubernetes();
 * }</pre>
 *
 * <p>It starts before the test class and stops after it: the client first, then the server. The mock server's shutdown waits (10 s) for the
 * client's sockets and intermittently gives up with "Unable to close MockWebServer" (or, for its Vert.x
 * instance, "Unable to close Vertx") although every watch was closed; those teardown timeouts of the fake
 * server are tolerated here, and only those (any other failure propagates). They happen after the test's
 * assertions and change no result.
 */
public final class MockKubernetes implements BeforeAllCallback, AfterAllCallback {
    private KubernetesMockServer server;
    private KubernetesClient client;

    @Override
    public void beforeAll(ExtensionContext context) {
        server = new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), new KubernetesCrudDispatcher(),
                false);
        server.init();
        client = server.createClient();
    }

    /** The client of the running server. */
    public KubernetesClient client() {
        if (client == null) {
            throw new IllegalStateException("mock API server not started (register it with @RegisterExtension)");
        }
        return client;
    }

    /** Writes a kubeconfig for the running server to {@code file} (for code that builds its own client). */
    public java.nio.file.Path writeKubeconfig(java.nio.file.Path file) throws java.io.IOException {
        return java.nio.file.Files.writeString(file, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: mock
                  cluster: {server: "%s", insecure-skip-tls-verify: true}
                users:
                - name: test
                  user: {token: test}
                contexts:
                - name: mock
                  context: {cluster: mock, user: test, namespace: default}
                current-context: mock
                """.formatted(client().getMasterUrl().toString()));
    }

    @Override
    public void afterAll(ExtensionContext context) {
        client.close();
        try {
            server.destroy();
        } catch (IllegalStateException e) {
            // fabric8's MockWebServer.await times out closing its web server or its Vert.x instance now and then,
            // after the test's assertions ran: "Unable to close MockWebServer" / "Unable to close Vertx".
            boolean teardownTimeout = e.getMessage() != null && e.getMessage().startsWith("Unable to close ");
            if (!teardownTimeout) {
                throw e;
            }
        }
    }
}
