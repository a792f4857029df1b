package dev.meshauth.agent.handshake;

import dev.meshauth.spire.SpiffeIds;
import dev.meshauth.spire.SvidException;
import dev.meshauth.spire.svid.SvidRejectedException;
import dev.meshauth.spire.svid.WorkloadSvid;
import io.netty.bootstrap.ServerBootstrap;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.Unpooled;
import io.netty.channel.Channel;
import io.netty.channel.ChannelFutureListener;
import io.netty.channel.ChannelHandlerContext;
import io.netty.channel.ChannelInboundHandlerAdapter;
import io.netty.channel.ChannelInitializer;
import io.netty.channel.EventLoopGroup;
import io.netty.channel.MultiThreadIoEventLoopGroup;
import io.netty.channel.nio.NioIoHandler;
import io.netty.channel.socket.SocketChannel;
import io.netty.channel.socket.nio.NioServerSocketChannel;
import io.netty.handler.ssl.SniCompletionEvent;
import io.netty.handler.ssl.SniHandler;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslHandler;
import io.netty.handler.ssl.SslHandshakeCompletionEvent;
import io.netty.handler.ssl.SslHandshakeTimeoutException;
import io.netty.util.AsyncMapping;
import io.netty.util.AttributeKey;
import io.netty.util.concurrent.DefaultThreadFactory;
import io.netty.util.concurrent.Future;
import io.netty.util.concurrent.Promise;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import javax.net.ssl.SSLPeerUnverifiedException;
import java.net.InetSocketAddress;
import java.security.cert.Certificate;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.InstantSource;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.atomic.LongAdder;
import java.util.function.Consumer;

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
     * @param maxUnauthenticated connections allowed in handshake at once, from every peer together
     * @param maxPerPeer         connections allowed in handshake at once from one address (a peer agent
     *                           runs 8 handshakes at once by default)
     */
    public record Options(String host, int port, Duration handshakeTimeout, int maxUnauthenticated, int maxPerPeer) {
        /** With at most 32 connections in handshake per peer address (or the global limit, if lower). */
        public Options(String host, int port, Duration handshakeTimeout, int maxUnauthenticated) {
            this(host, port, handshakeTimeout, maxUnauthenticated, Math.min(32, maxUnauthenticated));
        }
    }

    /** How often a refusal is told per peer and reason (every one is counted). */
    static final Duration REFUSAL_REPORT_EVERY = Duration.ofSeconds(10);

    private final EventLoopGroup group;
    private final Channel channel;
    private final IdentityStore store;
    private final InstantSource clock;
    private final Options options;
    private final Admission admission;
    private final RefusalLog refusalLog;
    private final AtomicLong accepted = new AtomicLong();
    private final AtomicLong refused = new AtomicLong();
    private final Map<InboundRefusal, LongAdder> refusedBy = new EnumMap<>(InboundRefusal.class);
    private final ServerContexts contexts;
    private final Consumer<InboundHandshake> listener;

    private MutualAuthServer(Options options, IdentityStore store, InstantSource clock,
            Consumer<InboundHandshake> listener) throws InterruptedException {
        this.options = options;
        this.listener = listener;
        this.store = store;
        this.clock = clock;
        this.contexts = new ServerContexts(store, clock);
        this.admission = new Admission(options.maxUnauthenticated(), options.maxPerPeer());
        this.refusalLog = new RefusalLog(clock, REFUSAL_REPORT_EVERY, 1024);
        for (InboundRefusal r : InboundRefusal.values()) {
            refusedBy.put(r, new LongAdder());
        }
        this.group = new MultiThreadIoEventLoopGroup(2, new DefaultThreadFactory("meshauth-mtls-server", true),
                NioIoHandler.newFactory());
        Channel bound = null;
        try {
            bound = new ServerBootstrap().group(group).channel(NioServerSocketChannel.class)
                .childHandler(new ChannelInitializer<SocketChannel>() {
                    @Override
                    protected void initChannel(SocketChannel ch) {
                        InetSocketAddress peer = ch.remoteAddress();
                        Optional<InboundRefusal> full = admission.admit(peer.getAddress());
                        if (full.isPresent()) {
                            refuse(peer, Optional.empty(), OptionalLong.empty(), OptionalLong.empty(), full.get(),
                                    full.get() == InboundRefusal.OVERLOADED
                                            ? admission.global() + " connections already in handshake"
                                            : admission.perPeer() + " connections from this address already in handshake");
                            ch.close();
                            return;
                        }
                        AtomicInteger once = new AtomicInteger();
                        Runnable release = () -> {
                            if (once.getAndIncrement() == 0) {
                                admission.release(peer.getAddress());
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
                group.shutdownGracefully(0, 0, TimeUnit.SECONDS).syncUninterruptibly();
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
        return new MutualAuthServer(options, store, clock, h -> { });
    }

    /**
     * Binds and starts serving, telling {@code listener} of every handshake accepted or refused (on the
     * listener's event loop: keep it short).
     *
     * @throws InterruptedException if interrupted while binding
     */
    public static MutualAuthServer start(Options options, IdentityStore store, InstantSource clock,
            Consumer<InboundHandshake> listener) throws InterruptedException {
        return new MutualAuthServer(options, store, clock, listener);
    }

    /** TLS alert record: fatal internal_error (80), what Go's server sends when GetCertificate fails (Cilium). */
    private static final byte[] INTERNAL_ERROR_ALERT = {0x15, 0x03, 0x03, 0x00, 0x02, 0x02, 80};
    private static final AttributeKey<String> SNI = AttributeKey.valueOf("meshauth.sni");
    private static final AttributeKey<Boolean> REFUSED = AttributeKey.valueOf("meshauth.refused");

    /** A ClientHello whose SNI this node does not answer for. */
    private static final class SniRefused extends SSLException {
        private static final long serialVersionUID = 1L;
        private final InboundRefusal reason;
        private final transient Optional<String> sni;

        SniRefused(InboundRefusal reason, String sni, String message) {
            super(message);
            this.reason = reason;
            this.sni = Optional.ofNullable(sni);
        }
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

            private boolean refusedHello;

            @Override
            protected Future<SslContext> lookup(ChannelHandlerContext ctx, ByteBuf clientHello)
                    throws Exception {
                if (clientHello == null) { // the first record is not a TLS handshake: Go closes without an alert
                    return ctx.executor().newFailedFuture(new SniRefused(InboundRefusal.NOT_TLS, null,
                            "the first record is not a TLS handshake"));
                }
                return super.lookup(ctx, clientHello);
            }

            @Override
            protected void onLookupComplete(ChannelHandlerContext ctx, Future<SslContext> future) throws Exception {
                if (future.isSuccess() || !(future.cause() instanceof SniRefused r)) {
                    super.onLookupComplete(ctx, future);
                    return;
                }
                refusedHello = true;
                refuseSni(ctx, r);
            }

            @Override
            protected void decode(ChannelHandlerContext ctx, ByteBuf in, List<Object> out)
                    throws Exception {
                if (refusedHello) { // refused once, closing: whatever else arrives is not read again
                    in.skipBytes(in.readableBytes());
                    return;
                }
                super.decode(ctx, in, out);
            }
        };
    }

    /**
     * Refuses a ClientHello's SNI as Cilium's Go server does (its GetCertificate fails): the internal_error
     * alert, then close; a first record that is not TLS at all is closed without one, as Go does.
     */
    private void refuseSni(ChannelHandlerContext ctx, SniRefused r) {
        ctx.channel().attr(REFUSED).set(true);
        refuse((InetSocketAddress) ctx.channel().remoteAddress(), r.sni, OptionalLong.empty(), OptionalLong.empty(), r.reason,
                r.getMessage());
        if (r.reason == InboundRefusal.NOT_TLS) {
            ctx.close();
            return;
        }
        ctx.writeAndFlush(Unpooled.wrappedBuffer(INTERNAL_ERROR_ALERT))
                .addListener(ChannelFutureListener.CLOSE);
    }

    private Future<SslContext> select(String host, Promise<SslContext> promise) {
        String suffix = "." + store.trustDomain().getName();
        if (host == null) {
            return promise.setFailure(new SniRefused(InboundRefusal.NO_SNI, null, "no SNI: a client must name"
                    + " <identity>" + suffix));
        }
        if (!host.endsWith(suffix)) {
            return promise.setFailure(new SniRefused(InboundRefusal.FOREIGN_SNI, host, "SNI '" + host + "' is not <identity>"
                    + suffix));
        }
        long identity;
        try {
            identity = Long.parseLong(host.substring(0, host.length() - suffix.length()));
        } catch (NumberFormatException e) {
            return promise.setFailure(new SniRefused(InboundRefusal.FOREIGN_SNI, host, "SNI '" + host
                    + "' does not name a numeric identity"));
        }
        if (!store.servesLocally(identity)) {
            return promise.setFailure(new SniRefused(InboundRefusal.NOT_HOSTED, host, "no endpoint with identity " + identity
                    + " on this node"));
        }
        WorkloadSvid svid = store.svid(identity).orElse(null);
        if (svid == null) {
            return promise.setFailure(new SniRefused(InboundRefusal.NO_LOCAL_SVID, host, "no SVID held for identity "
                    + identity + " (yet)"));
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
        private boolean decided; // a verdict was reached and told (this channel's event loop only)

        Verdict(Runnable release) {
            this.release = release;
        }

        @Override
        public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
            if (evt instanceof SniCompletionEvent sni) {
                ctx.channel().attr(SNI).set(sni.hostname());
                if (sni.cause() instanceof SslHandshakeTimeoutException t) { // no ClientHello in time
                    decided = true;
                    refuse((InetSocketAddress) ctx.channel().remoteAddress(), Optional.empty(), OptionalLong.empty(),
                            OptionalLong.empty(), InboundRefusal.TIMEOUT, "no ClientHello within "
                                    + options.handshakeTimeout().toMillis() + " ms");
                }
            }
            if (evt instanceof SslHandshakeCompletionEvent e) {
                decided = true;
                release.run();
                InetSocketAddress peer = (InetSocketAddress) ctx.channel().remoteAddress();
                Optional<String> host = Optional.ofNullable(ctx.channel().attr(SNI).get());
                OptionalLong served = host.map(MutualAuthServer::identityOf).orElse(OptionalLong.empty());
                if (e.isSuccess()) {
                    accepted.incrementAndGet();
                    OptionalLong client = clientIdentity(ctx);
                    LOG.atDebug().setMessage("mutual auth accepted")
                            .addKeyValue("peer", peer)
                            .addKeyValue("served", served.isPresent() ? served.getAsLong() : "?")
                            .addKeyValue("client", client.isPresent() ? client.getAsLong() : "?")
                            .log();
                    listener.accept(new InboundHandshake(peer, host, served, client, Optional.empty(), ""));
                } else {
                    Optional<SvidRejectedException> rejected = rejection(e.cause());
                    InboundRefusal reason = rejected.isPresent() ? InboundRefusal.CLIENT_CERTIFICATE
                            : e.cause() instanceof SslHandshakeTimeoutException ? InboundRefusal.TIMEOUT : InboundRefusal.TLS;
                    String detail = rejected.map(r -> r.getMessage() + " [" + r.rule().map(Enum::name)
                            .orElse(r.kind().name()) + "]").orElse(rootMessage(e.cause()));
                    OptionalLong client = rejected.flatMap(SvidRejectedException::peer)
                            .map(SpiffeIds::identityOf).orElse(OptionalLong.empty());
                    refuse(peer, host, served, client, reason, detail);
                }
                ctx.close(); // SslHandler sends close_notify first on success; an alert already went on failure
            }
            ctx.fireUserEventTriggered(evt);
        }

        @Override
        public void exceptionCaught(ChannelHandlerContext ctx, Throwable cause) {
            if (!decided && !Boolean.TRUE.equals(ctx.channel().attr(REFUSED).get())) {
                decided = true; // a reset is the client giving up; anything else is bad TLS (an oversized ClientHello)
                refuse((InetSocketAddress) ctx.channel().remoteAddress(), Optional.ofNullable(ctx.channel().attr(SNI).get()),
                        OptionalLong.empty(), OptionalLong.empty(),
                        cause instanceof java.io.IOException ? InboundRefusal.INCOMPLETE : InboundRefusal.TLS, rootMessage(cause));
            }
            ctx.close(); // garbage, resets: this connection only
        }

        @Override
        public void channelInactive(ChannelHandlerContext ctx) {
            if (!decided && !Boolean.TRUE.equals(ctx.channel().attr(REFUSED).get())) { // gone before any verdict
                refuse((InetSocketAddress) ctx.channel().remoteAddress(), Optional.ofNullable(ctx.channel().attr(SNI).get()),
                        OptionalLong.empty(), OptionalLong.empty(), InboundRefusal.INCOMPLETE,
                        "the client closed the connection before the handshake completed");
            }
            ctx.fireChannelInactive();
        }
    }

    /**
     * Counts a refusal, and tells of it (a log line and an inbound event) unless one like it from the same
     * address was told less than {@link #REFUSAL_REPORT_EVERY} ago: then the next report says how many
     * were held back.
     */
    private void refuse(InetSocketAddress peer, Optional<String> sni, OptionalLong served, OptionalLong client,
            InboundRefusal reason, String detail) {
        refused.incrementAndGet();
        refusedBy.get(reason).increment();
        OptionalLong report = refusalLog.report(peer.getAddress(), reason);
        if (report.isEmpty()) {
            return;
        }
        long held = report.getAsLong();
        String told = held == 0 ? detail : detail + " (and " + held + " more from " + peer.getAddress().getHostAddress()
                + " in the last " + REFUSAL_REPORT_EVERY.toSeconds() + " s)";
        LOG.atInfo().setMessage("mutual auth refused")
                .addKeyValue("peer", peer)
                .addKeyValue("sni", sni.orElse("(none)"))
                .addKeyValue("reason", reason.label())
                .addKeyValue("detail", detail)
                .addKeyValue("held_back", held)
                .log();
        listener.accept(new InboundHandshake(peer, sni, served, client, Optional.of(reason), told));
    }

    /** Refusals so far by reason (each counted, told or not). */
    public Map<InboundRefusal, Long> refusedByReason() {
        Map<InboundRefusal, Long> out = new EnumMap<>(InboundRefusal.class);
        refusedBy.forEach((r, n) -> out.put(r, n.sum()));
        return out;
    }

    /** Connections in handshake now, from how many addresses. */
    public int inHandshake() {
        return admission.inHandshake();
    }

    /** The identity an SNI {@code <identity>.<td>} names, if numeric. */
    private static OptionalLong identityOf(String sni) {
        int dot = sni.indexOf('.');
        try {
            return OptionalLong.of(Long.parseLong(dot < 0 ? sni : sni.substring(0, dot)));
        } catch (NumberFormatException e) {
            return OptionalLong.empty();
        }
    }

    /** The verified client's identity (after a successful handshake, its leaf passed our trust manager). */
    private static OptionalLong clientIdentity(ChannelHandlerContext ctx) {
        try {
            SslHandler ssl = ctx.pipeline().get(SslHandler.class);
            Certificate[] chain = ssl.engine().getSession().getPeerCertificates();
            return SpiffeIds.identityOf(SpiffeIds.ofLeaf((X509Certificate) chain[0]));
        } catch (SSLPeerUnverifiedException | SvidException | RuntimeException ex) {
            return OptionalLong.empty();
        }
    }

    /** Our trust manager's refusal in a failure's cause chain, if that is what failed. */
    private static Optional<SvidRejectedException> rejection(Throwable t) {
        for (Throwable c = t; c != null; c = c.getCause() == c ? null : c.getCause()) {
            if (c instanceof SvidRejectedException r) {
                return Optional.of(r);
            }
        }
        return Optional.empty();
    }

    private static String rootMessage(Throwable t) {
        Throwable c = t;
        while (c.getCause() != null && c.getCause() != c) {
            c = c.getCause();
        }
        return c.getMessage() == null ? c.toString() : c.getMessage();
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
        while (admission.inHandshake() > 0 && System.nanoTime() < deadline) { // let handshakes in flight finish
            try {
                Thread.sleep(10);
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                break;
            }
        }
        group.shutdownGracefully(0, 2, TimeUnit.SECONDS).syncUninterruptibly();
    }
}
