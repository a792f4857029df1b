package dev.meshauth.agent.metrics;

import com.sun.net.httpserver.HttpExchange;
import com.sun.net.httpserver.HttpServer;
import io.prometheus.metrics.config.EscapingScheme;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.model.registry.PrometheusRegistry;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.ByteArrayOutputStream;
import java.io.IOException;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.nio.charset.StandardCharsets;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.function.Supplier;

/**
 * {@code /metrics} (Prometheus text format 0.0.4), {@code /healthz} (the process serves) and
 * {@code /readyz} (200 when ready, else 503 listing what is not) on {@code --metrics-address}
 * (default 127.0.0.1:9964).
 */
public final class MetricsServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MetricsServer.class);

    private final HttpServer server;

    private MetricsServer(HttpServer server) {
        this.server = server;
    }

    /**
     * Serves {@code registry}; {@code notReady} lists what keeps the agent from being ready (empty: ready).
     *
     * @throws IOException if the address cannot be bound (says which)
     */
    public static MetricsServer start(InetSocketAddress address, PrometheusRegistry registry, Supplier<List<String>> notReady)
            throws IOException {
        HttpServer s;
        try {
            s = HttpServer.create(address, 16);
        } catch (IOException e) {
            throw new IOException("cannot serve metrics on " + address + " (--metrics-address): " + e.getMessage()
                    + "; give another address, or 'off'", e);
        }
        PrometheusTextFormatWriter writer = PrometheusTextFormatWriter.create();
        s.createContext("/metrics", ex -> {
            ByteArrayOutputStream body = new ByteArrayOutputStream();
            writer.write(body, registry.scrape(), EscapingScheme.UNDERSCORE_ESCAPING);
            send(ex, 200, writer.getContentType(), body.toByteArray());
        });
        s.createContext("/healthz", ex -> send(ex, 200, "text/plain; charset=utf-8", "ok\n".getBytes(StandardCharsets.UTF_8)));
        s.createContext("/readyz", ex -> {
            List<String> missing = notReady.get();
            String text = missing.isEmpty() ? "ready\n" : "not ready:\n- " + String.join("\n- ", missing) + "\n";
            send(ex, missing.isEmpty() ? 200 : 503, "text/plain; charset=utf-8", text.getBytes(StandardCharsets.UTF_8));
        });
        s.setExecutor(Executors.newVirtualThreadPerTaskExecutor());
        s.start();
        LOG.atInfo().addKeyValue("address", s.getAddress()).log("metrics and health endpoints up");
        return new MetricsServer(s);
    }

    private static void send(HttpExchange ex, int status, String type, byte[] body) throws IOException {
        try (ex; OutputStream out = ex.getResponseBody()) {
            if (!ex.getRequestMethod().equals("GET") && !ex.getRequestMethod().equals("HEAD")) {
                ex.sendResponseHeaders(405, -1);
                return;
            }
            ex.getResponseHeaders().set("Content-Type", type);
            ex.sendResponseHeaders(status, body.length);
            out.write(body);
        }
    }

    /** Where it listens (the port is resolved when 0 was asked). */
    public InetSocketAddress address() {
        return server.getAddress();
    }

    @Override
    public void close() {
        server.stop(0);
    }
}
