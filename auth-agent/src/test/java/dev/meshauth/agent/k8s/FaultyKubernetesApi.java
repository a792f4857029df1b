package dev.meshauth.agent.k8s;

import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.node.ArrayNode;
import com.fasterxml.jackson.databind.node.ObjectNode;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.fabric8.kubernetes.client.server.mock.KubernetesCrudDispatcher;
import io.fabric8.kubernetes.client.server.mock.KubernetesMockServer;
import io.fabric8.mockwebserver.Context;
import io.fabric8.mockwebserver.MockWebServer;
import io.fabric8.mockwebserver.http.MockResponse;
import io.fabric8.mockwebserver.http.RecordedRequest;
import io.fabric8.mockwebserver.http.Response;
import io.fabric8.mockwebserver.http.WebSocket;
import io.fabric8.mockwebserver.http.WebSocketListener;

import java.io.IOException;
import java.net.InetAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.HashMap;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * fabric8's mock API server in CRUD mode (the project's test API server) with the faults a real one has,
 * turned on by the test: the server stopped and started again on its port (every connection and watch
 * cut, the objects kept, as an API server restart), watches answered 410 Gone (the informer must relist),
 * list responses that leave out every second object (an API server answering from a partial cache), and
 * objects deleted while no watch was open. Not a fake: the objects and their CRUD are
 * fabric8's.
 */
public final class FaultyKubernetesApi implements AutoCloseable {
    private static final ObjectMapper JSON = new ObjectMapper();

    private final FaultInjectingDispatcher dispatcher = new FaultInjectingDispatcher();
    private final int port;
    private KubernetesMockServer server;
    private KubernetesClient client;

    /** Starts on a free loopback port. */
    public FaultyKubernetesApi() {
        server = newServer();
        server.init();
        port = server.getPort();
        client = server.createClient();
    }

    private KubernetesMockServer newServer() {
        return new KubernetesMockServer(new Context(), new MockWebServer(), new HashMap<>(), dispatcher, false);
    }

    /** The test's client (it reconnects after a restart). */
    public KubernetesClient client() {
        return client;
    }

    /** A kubeconfig for the server, for code that builds its own client. */
    public Path writeKubeconfig(Path file) throws IOException {
        return Files.writeString(file, """
                apiVersion: v1
                kind: Config
                clusters:
                - name: faulty
                  cluster: {server: "http://127.0.0.1:%d", insecure-skip-tls-verify: true}
                users:
                - name: test
                  user: {token: test}
                contexts:
                - name: faulty
                  context: {cluster: faulty, user: test, namespace: default}
                current-context: faulty
                """.formatted(port));
    }

    /** The API server goes away for {@code gone} (every connection and watch cut), then comes back with its objects. */
    public void outage(Duration gone) throws InterruptedException {
        outage(gone, () -> { });
    }

    /**
     * The object at {@code path} (an API path) is deleted while the server is down, so no watch sees it go,
     * and every informer must relist: only the relist's absence tells.
     */
    public void deleteWhileNobodyWatches(String path) throws InterruptedException {
        dispatcher.floor.addAndGet(1_000_000);
        outage(Duration.ZERO, () -> dispatcher.handleDelete(path)); // no watch open to tell of it
    }

    private void outage(Duration gone, Runnable whileDown) throws InterruptedException {
        client.close();
        server.shutdown();
        whileDown.run();
        Thread.sleep(gone.toMillis());
        server = newServer();
        server.init(InetAddress.getLoopbackAddress(), port);
        client = server.createClient();
    }

    /**
     * Every informer must relist, as after an etcd compaction: each open watch gets an ERROR event carrying
     * 410 Gone, as does a new watch from an older resource version; the lists that follow carry a newer
     * resource version, so each informer relists once.
     */
    public void forceRelist() {
        dispatcher.floor.addAndGet(1_000_000);
        dispatcher.goneOnOpenWatches();
    }

    /** While on, every list response leaves out every second object. */
    public void dropHalfOfLists(boolean on) {
        dispatcher.dropHalf = on;
    }

    /** List responses served (complete or not). */
    public int lists() {
        return dispatcher.lists.get();
    }

    /** Watch requests served (not answered 410). */
    public int watches() {
        return dispatcher.watches.get();
    }

    /** List responses served with objects left out. */
    public int partialLists() {
        return dispatcher.partialLists.get();
    }

    /** Watch requests answered 410 Gone. */
    public int goneServed() {
        return dispatcher.goneServed.get();
    }

    @Override
    public void close() {
        client.close();
        try {
            server.destroy();
        } catch (IllegalStateException e) {
            if (e.getMessage() == null || !e.getMessage().startsWith("Unable to close ")) {
                throw e; // see MockKubernetes: only the mock server's teardown timeouts are tolerated
            }
        }
    }

    private static final class FaultInjectingDispatcher extends KubernetesCrudDispatcher {
        final java.util.concurrent.atomic.AtomicLong floor = new java.util.concurrent.atomic.AtomicLong();
        private static final java.util.regex.Pattern RV = java.util.regex.Pattern.compile("[?&]resourceVersion=(\\d+)");
        final AtomicInteger goneServed = new AtomicInteger();
        final AtomicInteger lists = new AtomicInteger();
        final AtomicInteger watches = new AtomicInteger();
        final AtomicInteger partialLists = new AtomicInteger();
        volatile boolean dropHalf;

        private static final String GONE = """
                {"type":"ERROR","object":{"kind":"Status","apiVersion":"v1","metadata":{},"status":"Failure",\
                "message":"too old resource version","reason":"Expired","code":410}}""";
        /** The watches open now, each with the listener fabric8's CRUD dispatcher gave it. */
        private final Set<WebSocket> openWatches = ConcurrentHashMap.newKeySet();

        /** Ends every open watch with 410 Gone: its informer relists. */
        void goneOnOpenWatches() {
            java.util.List<WebSocket> now = java.util.List.copyOf(openWatches);
            openWatches.clear();
            for (WebSocket ws : now) {
                ws.send(GONE);
                goneServed.incrementAndGet();
            }
        }

        /** Forwards to fabric8's listener, remembering the socket so that a 410 can be sent on it. */
        private MockResponse remembered(MockResponse r) {
            WebSocketListener inner = r.getWebSocketListener();
            if (inner == null) {
                return r;
            }
            return new MockResponse().withWebSocketUpgrade(new WebSocketListener() {
                @Override
                public void onOpen(WebSocket ws, Response response) {
                    openWatches.add(ws);
                    inner.onOpen(ws, response);
                }

                @Override
                public void onMessage(WebSocket ws, String text) {
                    inner.onMessage(ws, text);
                }

                @Override
                public void onClosing(WebSocket ws, int code, String reason) {
                    openWatches.remove(ws);
                    inner.onClosing(ws, code, reason);
                }

                @Override
                public void onClosed(WebSocket ws, int code, String reason) {
                    openWatches.remove(ws);
                    inner.onClosed(ws, code, reason);
                }

                @Override
                public void onFailure(WebSocket ws, Throwable t, Response response) {
                    openWatches.remove(ws);
                    inner.onFailure(ws, t, response);
                }
            });
        }

        private boolean tooOld(String path) {
            java.util.regex.Matcher m = RV.matcher(path);
            return floor.get() > 0 && m.find() && Long.parseLong(m.group(1)) < floor.get();
        }

        @Override
        public MockResponse dispatch(RecordedRequest request) {
            boolean get = "GET".equalsIgnoreCase(request.getMethod());
            String path = request.getPath();
            if (get && path.contains("watch=true") && tooOld(path)) {
                goneServed.incrementAndGet();
                // As the API server does: the watch opens, then its one event is an ERROR carrying Status 410.
                return new MockResponse().withWebSocketUpgrade(new WebSocketListener() {
                    @Override
                    public void onOpen(WebSocket ws, Response response) {
                        ws.send(GONE);
                    }
                });
            }
            if (get && path.contains("watch=true")) {
                watches.incrementAndGet();
                if (dropHalf) {
                    // A real watch from a resource version sends only later changes; fabric8's CRUD watch would
                    // replay every object as ADDED and undo the partial list at once. While lists are partial,
                    // watches stay open and quiet (until a 410 ends them).
                    return new MockResponse().withWebSocketUpgrade(new WebSocketListener() {
                        @Override
                        public void onOpen(WebSocket ws, Response response) {
                            openWatches.add(ws);
                        }

                        @Override
                        public void onClosed(WebSocket ws, int code, String reason) {
                            openWatches.remove(ws);
                        }
                    });
                }
            }
            MockResponse r = super.dispatch(request);
            if (get && path.contains("watch=true")) {
                return remembered(r);
            }
            if (!get || r.code() != 200 || r.getBody() == null) {
                return r;
            }
            try {
                var body = JSON.readTree(r.getBody().getBytes());
                if (!(body instanceof ObjectNode o) || !(o.get("items") instanceof ArrayNode items)) {
                    return r;
                }
                lists.incrementAndGet();
                ArrayNode kept = JSON.createArrayNode();
                for (int i = 0; i < items.size(); i++) {
                    if (dropHalf && i % 2 == 1) {
                        continue;
                    }
                    kept.add(items.get(i));
                }
                if (floor.get() > 0 && o.get("metadata") instanceof ObjectNode metadata) {
                    metadata.put("resourceVersion", Long.toString(floor.get()));
                }
                if (kept.size() == items.size()) {
                    return new MockResponse().setResponseCode(200).setHeader("Content-Type", "application/json")
                            .setBody(JSON.writeValueAsString(o));
                }
                partialLists.incrementAndGet();
                o.set("items", kept);
                return new MockResponse().setResponseCode(200).setHeader("Content-Type", "application/json")
                        .setBody(JSON.writeValueAsString(o));
            } catch (IOException e) {
                return r;
            }
        }
    }
}
