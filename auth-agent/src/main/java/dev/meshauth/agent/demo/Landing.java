package dev.meshauth.agent.demo;

import com.sun.net.httpserver.HttpServer;
import dev.meshauth.bpf.link.NetNs;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.InetSocketAddress;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.Optional;

/** The deathstar's landing service, and the ships' request to it (both inside their pods' namespaces). */
final class Landing {
    private Landing() {
    }

    /** Serves {@code POST /v1/request-landing} with "Ship landed" on {@code ip}:80 inside {@code netns}. */
    static HttpServer serve(String netns, String ip) throws Exception {
        return serve(netns, ip, "Ship landed");
    }

    /** Serves {@code POST /v1/request-landing} with {@code answer} on {@code ip}:80 inside {@code netns}. */
    static HttpServer serve(String netns, String ip, String answer) throws Exception {
        return NetNs.run(Optional.of(NetNs.named(netns)), () -> {
            HttpServer server = HttpServer.create(new InetSocketAddress(ip, 80), 16);
            server.createContext("/v1/request-landing", ex -> {
                byte[] body = (ex.getRequestMethod().equals("POST") ? answer + "\n" : "Use POST\n")
                        .getBytes(StandardCharsets.US_ASCII);
                ex.sendResponseHeaders(ex.getRequestMethod().equals("POST") ? 200 : 405, body.length);
                try (OutputStream os = ex.getResponseBody()) {
                    os.write(body);
                }
            });
            server.start();
            return server;
        });
    }

    /**
     * {@code curl -s -XPOST deathstar/v1/request-landing} from inside {@code netns}: the response body,
     * or empty if the connection timed out (dropped).
     */
    static Optional<String> request(Path netns, String target, int timeoutMs) throws Exception {
        return NetNs.run(Optional.of(netns), () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(target, 80), timeoutMs);
                s.setSoTimeout(timeoutMs);
                OutputStream out = s.getOutputStream();
                out.write(("POST /v1/request-landing HTTP/1.1\r\nHost: deathstar.default.svc.cluster.local\r\n"
                        + "Content-Length: 0\r\nConnection: close\r\n\r\n").getBytes(StandardCharsets.US_ASCII));
                out.flush();
                InputStream in = s.getInputStream();
                String response = new String(in.readAllBytes(), StandardCharsets.US_ASCII);
                int body = response.indexOf("\r\n\r\n");
                return Optional.of(body < 0 ? response : response.substring(body + 4));
            } catch (SocketTimeoutException e) {
                return Optional.empty();
            } catch (IOException e) {
                return Optional.empty();
            }
        });
    }
}
