package dev.meshauth.spire.grpc;

import io.grpc.BindableService;
import io.grpc.ManagedChannel;
import io.grpc.Server;
import io.grpc.ServerInterceptor;
import io.grpc.ServerInterceptors;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.grpc.netty.shaded.io.netty.channel.ChannelOption;
import io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder;
import io.grpc.netty.shaded.io.netty.channel.EventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollEventLoopGroup;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollServerDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.DomainSocketAddress;
import io.grpc.netty.shaded.io.netty.util.concurrent.DefaultThreadFactory;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.util.List;
import java.util.concurrent.TimeUnit;

/**
 * gRPC over Unix domain sockets, plaintext (SPIFFE Workload Endpoint: TLS must not be required), on the
 * shaded Netty that java-spiffe's transport also uses, so there is one Netty in the process.
 */
public final class UnixSockets {
    /** On servers made with {@code peerCredentials}: the calling process (call attribute). */
    public static final io.grpc.Attributes.Key<UnixPeer> PEER = io.grpc.Attributes.Key.create("meshauth.unix-peer");

    private static final EventLoopGroup CLIENT_LOOP = new EpollEventLoopGroup(1,
            new DefaultThreadFactory("meshauth-grpc-uds-client", true));

    private UnixSockets() {
    }

    /** A channel to the socket at {@code path} accepting inbound messages up to {@code maxInboundBytes}. */
    public static ManagedChannel channel(Path path, int maxInboundBytes) {
        return NettyChannelBuilder.forAddress(new DomainSocketAddress(path.toString()))
                .eventLoopGroup(CLIENT_LOOP)
                .channelType(EpollDomainSocketChannel.class)
                // gRPC asks every socket for SO_KEEPALIVE; a Unix socket has none: unset it (null removes the option)
                .withOption(ChannelOption.SO_KEEPALIVE, null)
                .usePlaintext()
                .maxInboundMessageSize(maxInboundBytes)
                .build();
    }

    /** A started server; close it to stop it and remove its socket file. */
    public static final class UnixServer implements AutoCloseable {
        private final Server server;
        private final EventLoopGroup boss;
        private final EventLoopGroup workers;
        private final Path path;

        private UnixServer(Server server, EventLoopGroup boss, EventLoopGroup workers, Path path) {
            this.server = server;
            this.boss = boss;
            this.workers = workers;
            this.path = path;
        }

        /** The socket path. */
        public Path path() {
            return path;
        }

        @Override
        public void close() {
            server.shutdownNow();
            try {
                server.awaitTermination(5, TimeUnit.SECONDS);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
            boss.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            workers.shutdownGracefully(0, 1, TimeUnit.SECONDS);
            try {
                Files.deleteIfExists(path);
            } catch (IOException e) {
                // the socket file is gone with the directory, or was replaced: nothing to do
            }
        }
    }

    /**
     * Serves {@code services} on a new socket at {@code path} (a stale socket file is removed first, as
     * SPIRE does) with the given file mode, such as "rwxrwx---".
     *
     * @throws IOException if the directory cannot be made or the socket cannot be bound
     */
    public static UnixServer serve(Path path, String mode, int maxInboundBytes, List<BindableService> services,
            List<ServerInterceptor> interceptors) throws IOException {
        return serve(path, mode, maxInboundBytes, services, interceptors, false);
    }

    /**
     * As {@link #serve(Path, String, int, List, List)}; with {@code peerCredentials}, every call carries its
     * caller's SO_PEERCRED as the attribute {@link #PEER}.
     *
     * @throws IOException if the directory cannot be made or the socket cannot be bound
     */
    public static UnixServer serve(Path path, String mode, int maxInboundBytes, List<BindableService> services,
            List<ServerInterceptor> interceptors, boolean peerCredentials) throws IOException {
        Files.createDirectories(path.toAbsolutePath().getParent());
        Files.deleteIfExists(path);
        EventLoopGroup boss = new EpollEventLoopGroup(1, new DefaultThreadFactory("grpc-uds-boss-" + path.getFileName(), true));
        EventLoopGroup workers = new EpollEventLoopGroup(2, new DefaultThreadFactory("grpc-uds-" + path.getFileName(), true));
        DomainSocketAddress address = new DomainSocketAddress(path.toString());
        NettyServerBuilder b = (peerCredentials
                ? NettyServerBuilder.forAddress(address, io.grpc.netty.shaded.io.grpc.netty.InternalNettyServerCredentials
                        .create(new PeerCredentialsNegotiator()))
                : NettyServerBuilder.forAddress(address))
                .bossEventLoopGroup(boss)
                .workerEventLoopGroup(workers)
                .channelType(EpollServerDomainSocketChannel.class)
                .withChildOption(ChannelOption.SO_KEEPALIVE, null) // as for the channel: not a Unix socket option
                .maxInboundMessageSize(maxInboundBytes);
        for (BindableService s : services) {
            b.addService(ServerInterceptors.intercept(s, interceptors));
        }
        Server server = b.build();
        try {
            server.start();
        } catch (IOException e) {
            boss.shutdownGracefully();
            workers.shutdownGracefully();
            throw new IOException("cannot serve on " + path + ": " + e.getMessage(), e);
        }
        Files.setPosixFilePermissions(path, PosixFilePermissions.fromString(mode));
        return new UnixServer(server, boss, workers, path);
    }
}
