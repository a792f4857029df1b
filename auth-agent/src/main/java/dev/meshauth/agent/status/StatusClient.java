package dev.meshauth.agent.status;

import com.fasterxml.jackson.core.type.TypeReference;
import com.fasterxml.jackson.databind.JsonNode;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.StandardProtocolFamily;
import java.net.URLEncoder;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.Channels;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.function.Consumer;

/** The CLI's side of the status API: one GET per connection over the agent's Unix socket. */
public final class StatusClient {
    /** The agent could not be reached, or answered with an error; the message says which and what to do. */
    public static final class AgentException extends Exception {
        private final int status;

        AgentException(int status, String message) {
            super(message);
            this.status = status;
        }

        /** The HTTP status the agent answered, or 0 if it was not reached. */
        public int status() {
            return status;
        }
    }

    private final Path socket;

    /** A client of the agent serving {@code socket}. */
    public StatusClient(Path socket) {
        this.socket = socket;
    }

    /** A query string from name/value pairs; null values are left out. */
    public static String query(String path, Map<String, Object> params) {
        StringBuilder sb = new StringBuilder(path);
        char sep = '?';
        for (var e : new LinkedHashMap<>(params).entrySet()) {
            if (e.getValue() != null) {
                sb.append(sep).append(URLEncoder.encode(e.getKey(), StandardCharsets.UTF_8)).append('=')
                        .append(URLEncoder.encode(String.valueOf(e.getValue()), StandardCharsets.UTF_8));
                sep = '&';
            }
        }
        return sb.toString();
    }

    /** GETs {@code target} and maps the JSON body to {@code type}. */
    public <T> T get(String target, TypeReference<T> type) throws AgentException {
        try (SocketChannel ch = connect(); BufferedReader in = request(ch, target)) {
            int status = statusOf(in);
            String body = in.lines().reduce("", (a, b) -> a + b + "\n");
            if (status != 200) {
                throw new AgentException(status, errorOf(body, status));
            }
            return Json.MAPPER.readValue(body, type);
        } catch (IOException e) {
            throw new AgentException(0, "reading the answer of the agent at " + socket + " failed: " + e.getMessage());
        }
    }

    /**
     * GETs {@code target} (which asks for {@code output=...}: the agent prints) and copies the answer to
     * {@code out} line by line as it arrives (a followed stream shows each event at once), its notice to
     * {@code err}.
     *
     * @return the exit code the agent gave for the answer
     * @throws AgentException if the agent cannot be reached or answers with an error (its message)
     */
    public int print(String target, java.io.PrintWriter out, java.io.PrintWriter err) throws AgentException {
        try (SocketChannel ch = connect(); BufferedReader in = request(ch, target)) {
            Head head = headOf(in);
            if (head.status() != 200) {
                String body = in.lines().reduce("", (a, b) -> a + b + "\n");
                throw new AgentException(head.status(), head.text() ? body.strip() : errorOf(body, head.status()));
            }
            if (!head.notice().isEmpty()) {
                err.println(head.notice());
                err.flush();
            }
            for (String l = in.readLine(); l != null; l = in.readLine()) {
                out.println(l);
                out.flush();
            }
            return head.exitCode();
        } catch (IOException e) {
            throw new AgentException(0, "reading the answer of the agent at " + socket + " failed: " + e.getMessage());
        }
    }

    /** An answer's status line and the headers the CLI reads. */
    private record Head(int status, boolean text, int exitCode, String notice) {
    }

    private static Head headOf(BufferedReader in) throws IOException {
        String line = in.readLine();
        if (line == null || !line.startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP answer: " + line);
        }
        int status = Integer.parseInt(line.split(" ")[1]);
        boolean text = false;
        int exitCode = status == 200 ? 0 : 1;
        String notice = "";
        for (String h = in.readLine(); h != null && !h.isEmpty(); h = in.readLine()) {
            int colon = h.indexOf(':');
            if (colon < 0) {
                continue;
            }
            String name = h.substring(0, colon).trim();
            String value = h.substring(colon + 1).trim();
            if (name.equalsIgnoreCase("Content-Type")) {
                text = value.startsWith("text/plain");
            } else if (name.equalsIgnoreCase(StatusServer.EXIT_CODE)) {
                exitCode = Integer.parseInt(value);
            } else if (name.equalsIgnoreCase(StatusServer.NOTICE)) {
                notice = value;
            }
        }
        return new Head(status, text, exitCode, notice);
    }

    /** GETs a newline-delimited stream and hands each line to {@code lines} until the agent ends it. */
    public void stream(String target, Consumer<String> lines) throws AgentException {
        try (SocketChannel ch = connect(); BufferedReader in = request(ch, target)) {
            int status = statusOf(in);
            if (status != 200) {
                throw new AgentException(status, errorOf(in.lines().reduce("", String::concat), status));
            }
            for (String l = in.readLine(); l != null; l = in.readLine()) {
                if (!l.isBlank()) {
                    lines.accept(l);
                }
            }
        } catch (IOException e) {
            throw new AgentException(0, "the event stream of the agent at " + socket + " broke: " + e.getMessage());
        }
    }

    private SocketChannel connect() throws AgentException {
        if (!Files.exists(socket) && !Files.notExists(socket)) {
            throw new AgentException(0, "permission denied on the path to the agent status socket " + socket
                    + ": run as root or as a member of the socket's group");
        }
        if (!Files.exists(socket)) {
            throw new AgentException(0, "no meshauth agent status socket at " + socket + ": is `meshauth agent` running,"
                    + " with --status-socket " + socket + "?");
        }
        try {
            SocketChannel ch = SocketChannel.open(StandardProtocolFamily.UNIX);
            ch.connect(UnixDomainSocketAddress.of(socket));
            return ch;
        } catch (java.net.ConnectException e) {
            throw new AgentException(0, "no meshauth agent is listening on " + socket
                    + " (a stale socket file): is `meshauth agent` running?");
        } catch (IOException e) {
            // connect(2) on a Unix socket needs write permission on it (unix(7)); the JDK reports EACCES as a
            // BindException, so ask the file system instead of reading the exception.
            if (!Files.isWritable(socket)) {
                throw new AgentException(0, "permission denied on the agent status socket " + socket
                        + " (mode 0660): run as root or as a member of the socket's group");
            }
            throw new AgentException(0, "cannot connect to the agent at " + socket + ": " + e.getMessage());
        }
    }

    private static BufferedReader request(SocketChannel ch, String target) throws IOException {
        ByteBuffer req = ByteBuffer.wrap(("GET " + target + " HTTP/1.1\r\nHost: meshauth\r\nConnection: close\r\n\r\n")
                .getBytes(StandardCharsets.ISO_8859_1));
        while (req.hasRemaining()) {
            ch.write(req);
        }
        return new BufferedReader(new InputStreamReader(Channels.newInputStream(ch), StandardCharsets.UTF_8));
    }

    /** Reads the status line and headers; returns the status code. */
    private static int statusOf(BufferedReader in) throws IOException {
        String line = in.readLine();
        if (line == null || !line.startsWith("HTTP/1.")) {
            throw new IOException("not an HTTP answer: " + line);
        }
        int status = Integer.parseInt(line.split(" ")[1]);
        for (String h = in.readLine(); h != null && !h.isEmpty(); h = in.readLine()) {
            // headers: the body is close-delimited or sized; reading to the end covers both
        }
        return status;
    }

    private static String errorOf(String body, int status) {
        try {
            JsonNode n = Json.MAPPER.readTree(body);
            if (n != null && n.has("error")) {
                return n.get("error").asText();
            }
        } catch (IOException ignored) {
            // not JSON
        }
        return "the agent answered HTTP " + status + ": " + body.strip();
    }
}
