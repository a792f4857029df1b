package dev.meshauth.agent.node;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.ServerSocketChannel;
import java.nio.channels.SocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * A Unix socket in front of another (a SPIRE agent's admin socket) that relays bytes both ways, delaying
 * each chunk toward the client by {@link #delay(Duration)} (a SPIRE agent answering slowly), and that can
 * cut every relayed connection at once ({@link #cutAll()}: the client must reconnect, through the proxy, to
 * whatever is behind it then). Test infrastructure: the bytes are the real SPIRE agent's.
 */
final class SlowUnixProxy implements AutoCloseable {
    private final Path upstream;
    private final ServerSocketChannel server;
    private final Set<SocketChannel> open = ConcurrentHashMap.newKeySet();
    private volatile Duration delay = Duration.ZERO;
    private volatile boolean closed;

    SlowUnixProxy(Path socket, Path upstream) throws IOException {
        this.upstream = upstream;
        Files.deleteIfExists(socket);
        server = ServerSocketChannel.open(StandardProtocolFamily.UNIX);
        server.bind(UnixDomainSocketAddress.of(socket));
        Thread.ofVirtual().name("slow-proxy-accept").start(this::accept);
    }

    void delay(Duration d) {
        delay = d;
    }

    /** Closes every relayed connection; new ones are accepted (and fail at once if the upstream is gone). */
    void cutAll() {
        for (SocketChannel c : open) {
            try {
                c.close();
            } catch (IOException e) {
                // closing anyway
            }
        }
        open.clear();
    }

    private void accept() {
        while (!closed) {
            try {
                SocketChannel client = server.accept();
                SocketChannel up;
                try {
                    up = SocketChannel.open(UnixDomainSocketAddress.of(upstream));
                } catch (IOException e) {
                    client.close(); // nothing behind the proxy: as a removed socket, the connection fails
                    continue;
                }
                open.add(client);
                open.add(up);
                Thread.ofVirtual().start(() -> pump(client, up, false));
                Thread.ofVirtual().start(() -> pump(up, client, true));
            } catch (IOException e) {
                return;
            }
        }
    }

    private void pump(SocketChannel from, SocketChannel to, boolean delayed) {
        ByteBuffer buf = ByteBuffer.allocate(64 * 1024);
        try {
            while (from.read(buf) >= 0) {
                buf.flip();
                if (delayed && !delay.isZero()) {
                    Thread.sleep(delay.toMillis());
                }
                while (buf.hasRemaining()) {
                    to.write(buf);
                }
                buf.clear();
            }
        } catch (IOException | InterruptedException e) {
            // one side went away
        } finally {
            try {
                from.close();
                to.close();
            } catch (IOException e) {
                // closing anyway
            }
            open.remove(from);
            open.remove(to);
        }
    }

    @Override
    public void close() throws IOException {
        closed = true;
        server.close();
        cutAll();
    }
}
