package dev.meshauth.agent.status;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.URLDecoder;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ClosedChannelException;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * The agent's local status API: HTTP/1.1 GET over a Unix socket (mode 0660, so only root and the
 * socket's group reach it; nothing listens on TCP), one virtual thread per connection, one request per
 * connection. A request must arrive whole within 5 s and in 8 KiB; anything else gets 400 and the
 * connection closes, other clients unharmed. At most 64 connections at once.
 */
public final class StatusServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(StatusServer.class);
    private static final int MAX_REQUEST = 8192;
    private static final int MAX_CONNECTIONS = 64;

    /** A parsed request. */
    public record Request(String path, Map<String, String> query) {
        /** A query parameter, if given. */
        public java.util.Optional<String> param(String name) {
            return java.util.Optional.ofNullable(query.get(name)).filter(v -> !v.isEmpty());
        }
    }

    /** What a handler answers. */
    public sealed interface Response {
        /** A JSON body with an HTTP status. */
        record Json(int status, Object body) implements Response {
        }

        /** Newline-delimited JSON until the body returns (or the client goes away: the sink then throws). */
        record Lines(LinesBody body) implements Response {
        }

        /**
         * Text printed for the CLI ({@code output=table|json|yaml}), with the exit code the command should
         * end with (header {@code Meshauth-Exit-Code}) and a notice for its standard error, if any.
         */
        record Printed(int status, String text, int exitCode, String notice) implements Response {
        }

        /** Printed lines until the body returns, as {@link Lines} (observe --follow with output=...). */
        record PrintedLines(LinesBody body) implements Response {
        }

        /** An error as the request wants it: text for the CLI (output=...), JSON for the API. */
        static Response error(Request r, int status, String message) {
            return r.param("output").isPresent() ? new Printed(status, message + "\n", 1, "")
                    : new Json(status, Map.of("error", message));
        }
    }

    /** Writes a streamed body. */
    @FunctionalInterface
    public interface LinesBody {
        /** Writes lines to {@code sink} until done; returns when the stream ends. */
        void write(LineSink sink) throws IOException, InterruptedException;
    }

    /** Where a streamed body goes; throws once the client has gone. */
    public interface LineSink {
        /** Writes one line (a newline is appended) and flushes. */
        void line(String json) throws IOException;

        /** True once the client has closed its end (checked without blocking, between lines). */
        boolean clientGone();
    }

    /** Routes requests. */
    @FunctionalInterface
    public interface Handler {
        /** Answers {@code r}; an IllegalArgumentException becomes 400 with its message. */
        Response handle(Request r) throws Exception;
    }

    private final Path socket;
    private final ServerSocketChannel server;
    private final Handler handler;
    private final Semaphore slots = new Semaphore(MAX_CONNECTIONS);
    private final ScheduledExecutorService timer = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("meshauth-status-timer").factory());
    private final Thread acceptor;
    private volatile boolean closed;

    private StatusServer(Path socket, ServerSocketChannel server, Handler handler) {
        this.socket = socket;
        this.server = server;
        this.handler = handler;
        this.acceptor = Thread.ofPlatform().daemon().name("meshauth-status-accept").start(this::acceptLoop);
    }

    /** Whether something accepts connections on {@code socket}. */
    private static boolean answers(Path socket) {
        try (SocketChannel probe = SocketChannel.open(UnixDomainSocketAddress.of(socket))) {
            return true;
        } catch (IOException e) {
            return false;
        }
    }

    /**
     * Binds {@code socket} (creating its directory) and serves.
     *
     * @throws IOException if another agent already serves there, or the socket cannot be created
     */
    public static StatusServer start(Path socket, Handler handler) throws IOException {
        Path dir = socket.toAbsolutePath().getParent();
        if (dir != null && !Files.isDirectory(dir)) {
            Files.createDirectories(dir, PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxr-xr-x")));
        }
        if (Files.exists(socket)) {
            if (answers(socket)) {
                throw new IOException("status socket " + socket + " is in use by another running agent: give this one its"
                        + " own --status-socket");
            }
            Files.delete(socket); // stale: left by an agent that was killed
        }
        ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        try {
            ch.bind(UnixDomainSocketAddress.of(socket), 64);
            Files.setPosixFilePermissions(socket, PosixFilePermissions.fromString("rw-rw----"));
        } catch (IOException e) {
            ch.close();
            throw new IOException("cannot serve the status API on " + socket + ": " + e.getMessage(), e);
        }
        LOG.atInfo().addKeyValue("socket", socket).addKeyValue("mode", "0660").log("status API up");
        return new StatusServer(socket, ch, handler);
    }

    private void acceptLoop() {
        while (!closed) {
            SocketChannel c;
            try {
                c = server.accept();
            } catch (ClosedChannelException e) {
                return;
            } catch (IOException e) {
                if (!closed) {
                    LOG.atWarn().addKeyValue("error", e.getMessage()).log("status API accept failed");
                }
                continue;
            }
            if (!slots.tryAcquire()) {
                closeQuietly(c);
                continue;
            }
            Thread.ofVirtual().name("meshauth-status-conn").start(() -> {
                try {
                    serve(c);
                } finally {
                    slots.release();
                    closeQuietly(c);
                }
            });
        }
    }

    private void serve(SocketChannel c) {
        ScheduledFuture<?> deadline = timer.schedule(() -> closeQuietly(c), 5, TimeUnit.SECONDS);
        Request r;
        try {
            r = read(c);
        } catch (IOException | IllegalArgumentException e) {
            deadline.cancel(false);
            if (c.isOpen()) {
                writeJson(c, 400, Map.of("error", "bad request: " + e.getMessage())); // no request: no output wanted
            }
            return;
        }
        deadline.cancel(false);
        Response resp;
        try {
            resp = handler.handle(r);
        } catch (IllegalArgumentException e) {
            resp = Response.error(r, 400, e.getMessage());
        } catch (Exception e) {
            LOG.atError().addKeyValue("path", r.path()).addKeyValue("error", e.toString()).log("status API handler failed");
            resp = Response.error(r, 500, e.toString());
        }
        switch (resp) {
            case Response.Json j -> writeJson(c, j.status(), j.body());
            case Response.Lines l -> stream(c, "application/x-ndjson", l.body());
            case Response.Printed p -> writePrinted(c, p);
            case Response.PrintedLines l -> stream(c, "text/plain; charset=utf-8", l.body());
        }
    }

    /** Reads one request head: "GET /path?query HTTP/1.x" and headers, up to an empty line. */
    private static Request read(SocketChannel c) throws IOException {
        ByteBuffer buf = ByteBuffer.allocate(MAX_REQUEST);
        while (true) {
            if (c.read(buf) < 0) {
                throw new IOException("connection closed before the request was complete");
            }
            String head = new String(buf.array(), 0, buf.position(), StandardCharsets.ISO_8859_1);
            int end = head.indexOf("\r\n\r\n");
            if (end >= 0) {
                return parse(head.substring(0, end));
            }
            if (!buf.hasRemaining()) {
                throw new IllegalArgumentException("request head larger than " + MAX_REQUEST + " bytes");
            }
        }
    }

    static Request parse(String head) {
        String line = head.lines().findFirst().orElse("");
        String[] parts = line.split(" ");
        if (parts.length != 3 || !parts[2].startsWith("HTTP/1.") || !parts[1].startsWith("/")) {
            throw new IllegalArgumentException("not an HTTP/1.x request line");
        }
        if (!parts[0].equals("GET")) {
            throw new IllegalArgumentException("only GET is served, got " + parts[0]);
        }
        String target = parts[1];
        int q = target.indexOf('?');
        Map<String, String> query = new HashMap<>();
        if (q >= 0) {
            for (String kv : target.substring(q + 1).split("&")) {
                if (kv.isEmpty()) {
                    continue;
                }
                int eq = kv.indexOf('=');
                String k = URLDecoder.decode(eq < 0 ? kv : kv.substring(0, eq), StandardCharsets.UTF_8);
                String v = eq < 0 ? "" : URLDecoder.decode(kv.substring(eq + 1), StandardCharsets.UTF_8);
                query.put(k, v);
            }
        }
        return new Request(q < 0 ? target : target.substring(0, q), Map.copyOf(query));
    }

    private static void writeJson(SocketChannel c, int status, Object body) {
        try {
            byte[] json = Json.MAPPER.writeValueAsBytes(body);
            String head = "HTTP/1.1 " + status + " " + reason(status) + "\r\nContent-Type: application/json\r\nContent-Length: "
                    + json.length + "\r\nConnection: close\r\n\r\n";
            writeAll(c, ByteBuffer.wrap(head.getBytes(StandardCharsets.ISO_8859_1)));
            writeAll(c, ByteBuffer.wrap(json));
        } catch (IOException e) {
            // the client went away; nothing to tell it
        }
    }

    private static void writePrinted(SocketChannel c, Response.Printed p) {
        try {
            byte[] text = p.text().getBytes(StandardCharsets.UTF_8);
            String head = "HTTP/1.1 " + p.status() + " " + reason(p.status()) + "\r\nContent-Type: text/plain; charset=utf-8"
                    + "\r\nContent-Length: " + text.length + "\r\n" + EXIT_CODE + ": " + p.exitCode() + "\r\n"
                    + (p.notice().isEmpty() ? "" : NOTICE + ": " + p.notice().replaceAll("[\r\n]", " ") + "\r\n")
                    + "Connection: close\r\n\r\n";
            writeAll(c, ByteBuffer.wrap(head.getBytes(StandardCharsets.UTF_8)));
            writeAll(c, ByteBuffer.wrap(text));
        } catch (IOException e) {
            // the client went away; nothing to tell it
        }
    }

    /** The header carrying a printed answer's exit code. */
    public static final String EXIT_CODE = "Meshauth-Exit-Code";
    /** The header carrying a notice for the CLI's standard error ("No SVIDs held."). */
    public static final String NOTICE = "Meshauth-Notice";

    private static void stream(SocketChannel c, String contentType, LinesBody body) {
        try {
            writeAll(c, ByteBuffer.wrap(("HTTP/1.1 200 OK\r\nContent-Type: " + contentType + "\r\nConnection: close\r\n\r\n")
                    .getBytes(StandardCharsets.ISO_8859_1)));
            body.write(new LineSink() {
                @Override
                public void line(String json) throws IOException {
                    writeAll(c, ByteBuffer.wrap((json + "\n").getBytes(StandardCharsets.UTF_8)));
                }

                @Override
                public boolean clientGone() {
                    try {
                        c.configureBlocking(false);
                        try {
                            return c.read(ByteBuffer.allocate(64)) < 0;
                        } finally {
                            c.configureBlocking(true);
                        }
                    } catch (IOException e) {
                        return true;
                    }
                }
            });
        } catch (IOException e) {
            // the client went away (observe stopped): the stream ends
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    private static void writeAll(SocketChannel c, ByteBuffer b) throws IOException {
        while (b.hasRemaining()) {
            c.write(b);
        }
    }

    private static String reason(int status) {
        return switch (status) {
            case 200 -> "OK";
            case 400 -> "Bad Request";
            case 404 -> "Not Found";
            case 409 -> "Conflict";
            case 503 -> "Service Unavailable";
            default -> "Internal Server Error";
        };
    }

    private static void closeQuietly(SocketChannel c) {
        try {
            c.close();
        } catch (IOException ignored) {
            // closing
        }
    }

    /** The socket path. */
    public Path socket() {
        return socket;
    }

    /** Stops serving and removes the socket file. */
    @Override
    public void close() {
        closed = true;
        try {
            server.close();
        } catch (IOException ignored) {
            // closing
        }
        timer.shutdownNow();
        try {
            acceptor.join(2000);
            Files.deleteIfExists(socket);
        } catch (IOException | InterruptedException e) {
            LOG.atWarn().addKeyValue("socket", socket).log("status socket not removed");
        }
    }
}
