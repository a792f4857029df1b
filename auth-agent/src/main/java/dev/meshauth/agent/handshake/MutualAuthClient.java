package dev.meshauth.agent.handshake;

import dev.meshauth.agent.events.FailureReason;
import dev.meshauth.spire.SpiffeIds;
import dev.meshauth.spire.svid.SvidRejectedException;
import dev.meshauth.spire.svid.WorkloadSvid;
import io.netty.bootstrap.Bootstrap;
import io.netty.channel.ChannelFuture;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.ChannelOption;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioSocketChannel;
import io.netty.handler.ssl.SslCloseCompletionEvent;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.ScheduledFuture;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLHandshakeException;
import java.net.InetSocketAddress;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Semaphore;
import java.util.concurrent.TimeUnit;

/**
 * Authenticates a local identity to a remote one on the remote identity's node, as Cilium's
 * mutual-auth handler does, but truly mutually: in TLS 1.3 the server judges our certificate after our
 * side of the handshake has finished, so we wait (bounded) for its verdict: close_notify means
 * accepted, an alert means rejected. Only an accepted handshake yields a result. No application data is
 * sent, so this stays wire-compatible with Cilium's handler.
 */
public final class MutualAuthClient implements AutoCloseable {
    /**
     * Client settings.
     *
     * @param connectTimeout TCP connect timeout (Cilium's --mesh-auth-mutual-connect-timeout, 5 s)
     * @param verdictTimeout how long to wait for the server's close_notify or alert after our handshake
     * @param maxConcurrent  handshakes in flight at once
     */
    public record Options(Duration connectTimeout, Duration verdictTimeout, int maxConcurrent) {
        /** 5 s, 2 s, 64. */
        public static final Options DEFAULTS = new Options(Duration.ofSeconds(5), Duration.ofSeconds(2), 64);
    }

    private final Options options;
    private final IdentityStore store;
    private final InstantSource clock;
    private final EventLoopGroup group = new MultiThreadIoEventLoopGroup(2,
            new DefaultThreadFactory("meshauth-mtls-client", true), NioIoHandler.newFactory());
    private final Semaphore slots;

    /** A client over {@code store}'s SVIDs. */
    public MutualAuthClient(Options options, IdentityStore store, InstantSource clock) {
        this.options = options;
        this.store = store;
        this.clock = clock;
        this.slots = new Semaphore(options.maxConcurrent());
    }

    /**
     * Authenticates {@code local} (whose SVID this node holds) to {@code remote} at {@code peer}.
     *
     * @return the result, or a {@link HandshakeException} naming why it failed
     */
    public CompletableFuture<HandshakeResult> authenticate(long local, long remote, InetSocketAddress peer) {
        CompletableFuture<HandshakeResult> result = new CompletableFuture<>();
        WorkloadSvid svid = store.svid(local).orElse(null);
        if (svid == null) {
            result.completeExceptionally(new HandshakeException(FailureReason.NO_LOCAL_SVID,
                    "this node holds no SVID for identity " + local, null));
            return result;
        }
        String sni = remote + "." + store.trustDomain().getName();
        try {
            if (!slots.tryAcquire(options.connectTimeout().toMillis(), TimeUnit.MILLISECONDS)) {
                result.completeExceptionally(new HandshakeException(FailureReason.TIMEOUT,
                        "too many handshakes in flight (" + options.maxConcurrent() + ")", null));
                return result;
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            result.completeExceptionally(e);
            return result;
        }
        result.whenComplete((r, t) -> slots.release());
        try {
            var ctx = TlsContexts.client(svid, store, clock);
            ChannelFuture connect = new Bootstrap().group(group).channel(NioSocketChannel.class)
                    .option(ChannelOption.CONNECT_TIMEOUT_MILLIS, (int) options.connectTimeout().toMillis())
                    .handler(new ChannelInitializer<SocketChannel>() {
                        @Override
                        protected void initChannel(SocketChannel ch) {
                            SslHandler ssl = ctx.newHandler(ch.alloc(), sni, peer.getPort());
                            ssl.setHandshakeTimeoutMillis(options.connectTimeout().toMillis());
                            ch.pipeline().addLast(ssl, new Verdict(result, svid, ssl));
                        }
                    })
                    .connect(peer);
            connect.addListener(f -> {
                if (!f.isSuccess()) {
                    result.completeExceptionally(new HandshakeException(FailureReason.CONNECT_FAILED,
                            "connect to " + peer + " failed: " + f.cause().getMessage(), f.cause()));
                }
            });
        } catch (SSLException e) {
            result.completeExceptionally(new HandshakeException(FailureReason.TLS, e.getMessage(), e));
        }
        return result;
    }

    /** Waits for the server's verdict after the handshake; classifies failures. */
    private final class Verdict extends ChannelInboundHandlerAdapter {
        private final CompletableFuture<HandshakeResult> result;
        private final WorkloadSvid local;
        private final SslHandler ssl;
        private X509Certificate peerLeaf;
        private java.util.Set<String> anchors = java.util.Set.of();
        private HandshakeResult.Negotiated negotiated;
        private ScheduledFuture<?> timeout;

        Verdict(CompletableFuture<HandshakeResult> result, WorkloadSvid local, SslHandler ssl) {
            this.result = result;
            this.local = local;
            this.ssl = ssl;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) throws Exception {
            if (evt instanceof SslHandshakeCompletionEvent e) {
                if (!e.isSuccess()) {
                    fail(ctx, classify(e.cause()), e.cause());
                    return;
                }
                var peerChain = ssl.engine().getSession().getPeerCertificates();
                peerLeaf = (X509Certificate) peerChain[0];
                anchors = anchors(peerChain, local);
                negotiated = TlsContexts.negotiated(ssl.engine());
                timeout = ctx.executor().schedule(() -> fail(ctx, FailureReason.TIMEOUT,
                        new SSLException("no verdict from the server within " + options.verdictTimeout().toMillis() + " ms")),
                        options.verdictTimeout().toMillis(), TimeUnit.MILLISECONDS);
            } else if (evt instanceof SslCloseCompletionEvent close && close.isSuccess() && peerLeaf != null
                    && !result.isDone()) { // only the server's close_notify is its "accepted", never a bare FIN
                cancelTimeout();
                Instant a = local.notAfter();
                Instant b = peerLeaf.getNotAfter().toInstant();
                result.complete(new HandshakeResult(SpiffeIds.ofLeaf(peerLeaf).toString(), a.isBefore(b) ? a : b, anchors,
                        negotiated));
                ctx.close();
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            fail(ctx, peerLeaf != null ? FailureReason.PEER_REFUSED : classify(cause), cause);
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            fail(ctx, peerLeaf != null ? FailureReason.PEER_REFUSED : FailureReason.TLS,
                    new SSLException(peerLeaf != null ? "the server closed the connection without close_notify: no verdict"
                            : "connection closed before the handshake completed"));
        }

        private void fail(ChannelHandlerContext ctx, FailureReason reason, Throwable cause) {
            cancelTimeout();
            if (!result.isDone()) {
                result.completeExceptionally(new HandshakeException(reason, rootMessage(cause), cause));
            }
            ctx.close();
        }

        private void cancelTimeout() {
            if (timeout != null) {
                timeout.cancel(false);
            }
        }
    }

    /** The roots the peer's chain and ours hang from (both were just validated against the bundle). */
    private java.util.Set<String> anchors(java.security.cert.Certificate[] peerChain, WorkloadSvid local) {
        List<X509Certificate> roots = store.roots();
        List<X509Certificate> peer = java.util.Arrays.stream(peerChain).map(X509Certificate.class::cast).toList();
        java.util.Set<String> out = new java.util.HashSet<>();
        TrustAnchors.anchorOf(peer, roots).ifPresent(out::add);
        TrustAnchors.anchorOf(local.chain(), roots).ifPresent(out::add);
        return out;
    }

    /**
     * Why a handshake failed, from the types in the cause chain (never from message text): our trust
     * manager's {@link SvidRejectedException} means the peer's certificate broke a rule; a handshake
     * timeout is a timeout; any other aborted handshake ({@link SSLHandshakeException}: our side found
     * nothing wrong, so the peer sent the alert, e.g. unrecognized_name for an identity it holds no SVID
     * for) means the peer refused us; anything else is a TLS failure.
     */
    static FailureReason classify(Throwable t) {
        boolean aborted = false;
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof SvidRejectedException) {
                return FailureReason.PEER_CERTIFICATE;
            }
            if (c instanceof SslHandshakeTimeoutException) {
                return FailureReason.TIMEOUT;
            }
            aborted |= c instanceof SSLHandshakeException;
        }
        return aborted ? FailureReason.PEER_REFUSED : FailureReason.TLS;
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.toString() : c.getMessage();
    }

    @Override
    public void close() {
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
