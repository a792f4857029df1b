package dev.meshauth.agent.handshake;

import dev.meshauth.spire.svid.WorkloadSvid;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBufAllocator;
import io.netty.channel.Channel;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.util.AsyncMapping;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * The mutual authentication listener (Cilium's port 4250). The client names the identity it wants in
 * SNI ({@code <identity>.<trust domain>}); we answer only for identities with an endpoint on this node,
 * require a client certificate that is a valid X509-SVID of the trust domain with an identity path, and
 * close with close_notify as soon as the client is verified: that close is the client's "accepted".
 * No application data is ever exchanged.
 *
 * <p>Abuse limits: a handshake timeout, a cap on connections not yet authenticated (beyond it new
 * connections are closed at once), and garbage bytes close only the connection that sent them.
 */
public final class MutualAuthServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(MutualAuthServer.class);
    private static final int MAX_CLIENT_HELLO = 16 * 1024;

    /**
     * Listener settings.
     *
     * @param host               address to bind; null for every address (IPv4 and IPv6, as Cilium's {@code :4250})
     * @param port               port (Cilium: 4250; 0 picks one, for tests)
     * @param handshakeTimeout   a connection that has not completed its handshake by then is closed
     * @param maxUnauthenticated connections allowed in handshake at once
     */
    public record Options(String host, int port, Duration handshakeTimeout, int maxUnauthenticated) {
    }

    private final EventLoopGroup group;
    private final Channel channel;
    private final IdentityStore store;
    private final InstantSource clock;
    private final Options options;
    private final AtomicInteger inHandshake = new AtomicInteger();
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final ServerContexts contexts;

    private MutualAuthServer(Options options, IdentityStore store, InstantSource clock) throws InterruptedException {
        this.options = options;
        this.store = store;
        this.clock = clock;
        this.contexts = new ServerContexts(store, clock);
        this.group = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("meshauth-mtls-server", true),
                NioIoHandler.newFactory());
        Channel bound = null;
        try {
            bound = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        if (inHandshake.incrementAndGet() > options.maxUnauthenticated()) {
                            inHandshake.decrementAndGet();
                            refused.incrementAndGet();
                            ch.close();
                            return;
                        }
                        AtomicInteger once = new AtomicInteger();
                        Runnable release = () -> {
                            if (once.getAndIncrement() == 0) {
                                inHandshake.decrementAndGet();
                            }
                        };
                        ch.closeFuture().addListener(f -> release.run());
                        ch.pipeline().addLast(sni(), new Verdict(release));
                    }
                })
                .bind(options.host() == null ? new InetSocketAddress(options.port())
                        : new InetSocketAddress(options.host(), options.port())).sync().channel();
        } finally {
            if (bound == null) { // the port is taken or the address is not ours: nothing of this server may stay
                group.shutdownGracefully(0, 0, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
            }
        }
        this.channel = bound;
        LOG.atInfo().setMessage("mutual auth listener up")
                .addKeyValue("address", channel.localAddress())
                .addKeyValue("provider", TlsContexts.PROVIDER)
                .log();
    }

    /**
     * Binds and starts serving.
     *
     * @throws InterruptedException if interrupted while binding
     */
    public static MutualAuthServer start(Options options, IdentityStore store, InstantSource clock)
            throws InterruptedException {
        return new MutualAuthServer(options, store, clock);
    }

    private SniHandler sni() {
        AsyncMapping<String, SslContext> mapping = (host, promise) -> select(host, promise);
        return new SniHandler(mapping, MAX_CLIENT_HELLO, options.handshakeTimeout().toMillis()) {
            @Override
            protected SslHandler newSslHandler(SslContext context, ByteBufAllocator allocator) {
                SslHandler h = super.newSslHandler(context, allocator);
                h.setHandshakeTimeoutMillis(options.handshakeTimeout().toMillis());
                return h;
            }
        };
    }

    private Future<SslContext> select(String host, Promise<SslContext> promise) {
        String suffix = "." + store.trustDomain().getName();
        if (host == null || !host.endsWith(suffix)) {
            return promise.setFailure(new SSLException("SNI '" + host + "' is not <identity>" + suffix));
        }
        long identity;
        try {
            identity = Long.parseLong(host.substring(0, host.length() - suffix.length()));
        } catch (NumberFormatException e) {
            return promise.setFailure(new SSLException("SNI '" + host + "' does not name a numeric identity"));
        }
        if (!store.servesLocally(identity)) {
            return promise.setFailure(new SSLException("no endpoint with identity " + identity + " on this node"));
        }
        WorkloadSvid svid = store.svid(identity).orElse(null);
        if (svid == null) {
            return promise.setFailure(new SSLException("no SVID held for identity " + identity));
        }
        try {
            return promise.setSuccess(contexts.forIdentity(identity, svid));
        } catch (SSLException e) {
            return promise.setFailure(e);
        }
    }

    /** TLS contexts held: one per local identity served (tests). */
    int contexts() {
        return contexts.size();
    }

    /** Closes (close_notify) once the client is verified; closes on any failure. */
    private final class Verdict extends ChannelInboundHandlerAdapter {
        private final Runnable release;

        Verdict(Runnable release) {
            this.release = release;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SslHandshakeCompletionEvent e) {
                release.run();
                if (e.isSuccess()) {
                    accepted.incrementAndGet();
                    LOG.atDebug().setMessage("mutual auth accepted")
                            .addKeyValue("peer", ctx.channel().remoteAddress())
                            .log();
                } else {
                    refused.incrementAndGet();
                    LOG.atInfo().setMessage("mutual auth refused")
                            .addKeyValue("peer", ctx.channel().remoteAddress())
                            .addKeyValue("reason", e.cause().getMessage())
                            .log();
                }
                ctx.close(); // SslHandler sends close_notify first on success; an alert already went on failure
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            ctx.close(); // garbage, resets: this connection only
        }
    }

    /** The TLS implementation serving handshakes: "boringssl" or "jdk". */
    public String tlsProvider() {
        return TlsContexts.providerName();
    }

    /** The address listened on ("[::]:4250" for every address). */
    public InetSocketAddress address() {
        return (InetSocketAddress) channel.localAddress();
    }

    /** The port listened on. */
    public int port() {
        return ((InetSocketAddress) channel.localAddress()).getPort();
    }

    /** Handshakes accepted so far. */
    public long accepted() {
        return accepted.get();
    }

    /** Connections refused or failed so far. */
    public long refused() {
        return refused.get();
    }

    /** Stops accepting, waits (up to the handshake timeout) for the handshakes in flight, then closes. */
    @Override
    public void close() {
        channel.close().syncUninterruptibly(); // stop accepting
        long deadline = System.nanoTime() + options.handshakeTimeout().toNanos();
        while (inHandshake.get() > 0 && System.nanoTime() < deadline) { // let handshakes in flight finish
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        group.shutdownGracefully(0, 2, java.util.concurrent.TimeUnit.SECONDS).syncUninterruptibly();
    }
}
