package dev.meshauth.spire.devserver;

import dev.meshauth.spire.grpc.UnixSockets;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.List;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;

/**
 * An embedded SPIRE-compatible server for development and tests: the Workload API, the Delegated
 * Identity API and the Entry API on three Unix sockets, a P-256 CA, SVIDs rotated at half-life. The same
 * client code runs against it and against a real SPIRE agent and server.
 */
public final class DevServer implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(DevServer.class);

    private final DevServerConfig config;
    private final EntryStore store;
    private final SvidIssuer issuer;
    private final Subscriptions subscriptions = new Subscriptions();
    private final List<UnixSockets.UnixServer> servers;
    private final List<io.grpc.Server> tcpServers = new java.util.concurrent.CopyOnWriteArrayList<>();
    private final DevEntryService entryService;
    private final ScheduledExecutorService rotation;
    private final boolean ownsRotation;
    private volatile java.util.concurrent.ScheduledFuture<?> ticking;

    private DevServer(DevServerConfig config, EntryStore store, SvidIssuer issuer, JwtIssuer jwt,
            java.util.Optional<ScheduledExecutorService> rotation) throws IOException {
        this.config = config;
        this.store = store;
        this.issuer = issuer;
        store.addListener(this::entriesChanged);
        var workload = new DevWorkloadApiService(store, issuer, jwt, subscriptions);
        var delegated = new DevDelegatedIdentityService(store, issuer, jwt, subscriptions,
                new HashSet<>(config.authorizedDelegates()));
        var entries = new DevEntryService(store);
        this.entryService = entries;
        UnixSockets.UnixServer w = null;
        UnixSockets.UnixServer a = null;
        try {
            // Interceptors run last-listed first: the header check, then attestation (as SPIRE's middleware).
            w = UnixSockets.serve(config.workloadSocket(), "rwxrwxrwx", config.maxMessageBytes(), List.of(workload),
                    List.of(new CallerAttestation(), new WorkloadHeaderInterceptor()), true);
            a = UnixSockets.serve(config.adminSocket(), "rwxrwx---", config.maxMessageBytes(), List.of(delegated),
                    List.of(new CallerAttestation()), true);
            var s = UnixSockets.serve(config.serverSocket(), "rwxrwx---", config.maxMessageBytes(), List.of(entries), List.of());
            this.servers = List.of(w, a, s);
        } catch (IOException | RuntimeException e) {
            if (w != null) {
                w.close();
            }
            if (a != null) {
                a.close();
            }
            throw e;
        }
        this.ownsRotation = rotation.isEmpty();
        this.rotation = rotation.orElseGet(() -> Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("dev-spire-rotation").factory()));
    }

    /**
     * Starts serving. Prints a loud warning: this is not a production identity provider.
     *
     * @throws IOException if a socket cannot be bound or the data directory cannot be used
     */
    public static DevServer start(DevServerConfig config, InstantSource clock) throws IOException {
        return start(config, clock, java.util.Optional.empty());
    }

    /**
     * As above, with the rotation tick (every second) timed by {@code rotation}, the caller's (a fake
     * clock's scheduler in tests, with that clock as {@code clock}).
     */
    public static DevServer start(DevServerConfig config, InstantSource clock, ScheduledExecutorService rotation)
            throws IOException {
        return start(config, clock, java.util.Optional.of(rotation));
    }

    private static DevServer start(DevServerConfig config, InstantSource clock,
            java.util.Optional<ScheduledExecutorService> rotation) throws IOException {
        DevCa ca = config.dataDir().isPresent()
                ? DevCa.loadOrCreate(config.dataDir().get(), config.trustDomain(), clock.instant())
                : DevCa.create(config.trustDomain(), clock.instant());
        EntryStore store = new EntryStore(config.trustDomain(), config.dataDir().map(d -> d.resolve("entries.pb")), clock);
        SvidIssuer issuer = new SvidIssuer(ca, config.svidTtl(), clock);
        registerDelegates(config, store);
        DevServer server = new DevServer(config, store, issuer, new JwtIssuer(java.time.Duration.ofMinutes(5), clock),
                rotation);
        LOG.atWarn().setMessage("DEVELOPMENT SPIRE SERVER: for development and tests only, never production")
                .addKeyValue("trust_domain", config.trustDomain().getName())
                .addKeyValue("workload_socket", config.workloadSocket())
                .addKeyValue("admin_socket", config.adminSocket())
                .addKeyValue("server_socket", config.serverSocket())
                .log();
        server.ticking = server.rotation.scheduleWithFixedDelay(server::tick, 1, 1, TimeUnit.SECONDS);
        return server;
    }

    /**
     * The convenience that makes the dev server work without set-up: an entry per authorized delegate for
     * {@code unix:uid:<delegateUid>}, as an operator would create with {@code spire-server entry create}
     * (already there after a restart with a data directory: kept).
     */
    private static void registerDelegates(DevServerConfig config, EntryStore store) {
        if (config.delegateUid().isEmpty()) {
            return;
        }
        var parent = dev.meshauth.spire.WireIds.toProto(io.spiffe.spiffeid.SpiffeId.parse(
                config.trustDomain().toIdString() + "/spire/agent/meshauth-dev-server"));
        for (io.spiffe.spiffeid.SpiffeId d : config.authorizedDelegates()) {
            var entry = spire.api.types.EntryOuterClass.Entry.newBuilder().setSpiffeId(dev.meshauth.spire.WireIds.toProto(d))
                    .setParentId(parent).addSelectors(dev.meshauth.spire.UnixSelectors.uid(config.delegateUid().getAsLong()))
                    .build();
            EntryStore.CreateResult r = store.create(entry);
            if (r.code() != 0 && r.code() != 6) {
                throw new IllegalStateException("registering the authorized delegate " + d + " failed: " + r.message());
            }
            long uid = config.delegateUid().getAsLong();
            LOG.atInfo().setMessage("dev SPIRE: authorized delegate registered")
                    .addKeyValue("spiffe_id", d)
                    .addKeyValue("selector", "unix:uid:" + uid)
                    .addKeyValue("spire_needs", "spire-server entry create -spiffeID " + d + " -selector unix:uid:" + uid
                            + " -parentID <node>")
                    .log();
        }
    }

    /** Rotates SVIDs past half-life and pushes new full states; the scheduler calls it every second. */
    public void tick() {
        try {
            if (issuer.rotateDue(store.all())) {
                subscriptions.changed();
            }
        } catch (RuntimeException e) {
            LOG.error("SVID rotation failed; will retry in 1s", e);
        }
    }

    private void entriesChanged() {
        issuer.rotateDue(store.all()); // forget SVIDs of deleted entries before re-sending state
        subscriptions.changed();
    }

    /**
     * Also serves the Entry API over TCP at {@code address}, as a SPIRE server's port 8081 does: mutual
     * TLS 1.3 with a server SVID for {@code spiffe://<td>/spire/server}, any client with a valid SVID of the
     * trust domain may connect, and only callers whose SPIFFE ID is in {@code adminIds} may call (SPIRE's
     * {@code admin_ids}); others get PERMISSION_DENIED.
     *
     * @return the bound port
     * @throws IOException if the address cannot be bound
     */
    public int serveTcp(java.net.InetSocketAddress address, java.util.Set<io.spiffe.spiffeid.SpiffeId> adminIds)
            throws IOException {
        io.spiffe.spiffeid.SpiffeId serverId = io.spiffe.spiffeid.SpiffeId.parse(config.trustDomain().toIdString()
                + "/spire/server");
        java.security.KeyPair kp = CertificateMinter.newKeyPair();
        java.security.cert.X509Certificate cert = issuer.ca().issue(serverId, kp.getPublic(), java.time.Instant.now(),
                java.time.Duration.ofDays(30));
        var ssl = io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts.configure(
                        io.grpc.netty.shaded.io.netty.handler.ssl.SslContextBuilder.forServer(dev.meshauth.spire.grpc.SpiffeTls
                                .keyManager(new dev.meshauth.spire.grpc.SpiffeTls.Identity(() -> List.of(cert), kp::getPrivate))))
                .protocols("TLSv1.3")
                .clientAuth(io.grpc.netty.shaded.io.netty.handler.ssl.ClientAuth.REQUIRE)
                .trustManager(new dev.meshauth.spire.svid.SvidTrustManager(config::trustDomain,
                        () -> List.of(issuer.ca().certificate()), java.time.InstantSource.system(),
                        dev.meshauth.spire.svid.SvidTrustManager.PeerRule.any(),
                        dev.meshauth.spire.svid.SvidTrustManager.PeerRule.any(), java.util.Optional.empty()))
                .build();
        io.grpc.ServerInterceptor admins = new io.grpc.ServerInterceptor() {
            @Override
            public <Q, R> io.grpc.ServerCall.Listener<Q> interceptCall(io.grpc.ServerCall<Q, R> call, io.grpc.Metadata headers,
                    io.grpc.ServerCallHandler<Q, R> next) {
                javax.net.ssl.SSLSession session = call.getAttributes().get(io.grpc.Grpc.TRANSPORT_ATTR_SSL_SESSION);
                java.util.Optional<io.spiffe.spiffeid.SpiffeId> caller;
                try {
                    caller = session == null ? java.util.Optional.empty()
                            : dev.meshauth.spire.grpc.SpiffeTls.peerId(session.getPeerCertificates());
                } catch (javax.net.ssl.SSLPeerUnverifiedException e) {
                    caller = java.util.Optional.empty();
                }
                if (caller.isEmpty() || !adminIds.contains(caller.get())) {
                    // SPIRE's own words (pkg/server/api/middleware/authorization.go)
                    call.close(io.grpc.Status.PERMISSION_DENIED.withDescription("authorization denied for method "
                            + "/" + call.getMethodDescriptor().getFullMethodName()), new io.grpc.Metadata());
                    return new io.grpc.ServerCall.Listener<>() { };
                }
                return next.startCall(call, headers);
            }
        };
        io.grpc.Server server = io.grpc.netty.shaded.io.grpc.netty.NettyServerBuilder.forAddress(address)
                .sslContext(ssl)
                .maxInboundMessageSize(config.maxMessageBytes())
                .addService(io.grpc.ServerInterceptors.intercept(entryService, admins))
                .build()
                .start();
        tcpServers.add(server);
        LOG.atWarn().setMessage("DEVELOPMENT SPIRE SERVER: Entry API over TCP with mTLS")
                .addKeyValue("address", address.getHostString() + ":" + server.getPort())
                .addKeyValue("server_id", serverId)
                .addKeyValue("admin_ids", adminIds)
                .log();
        return server.getPort();
    }

    /** The configuration it runs with. */
    public DevServerConfig config() {
        return config;
    }

    /**
     * Revokes the CA, as SPIRE's X.509 authority revocation does after a compromise: a new CA signs from now
     * on, the old root leaves the bundle at once, and every SVID is re-issued; streams get the new full
     * state (the bundle and the SVID streams are separate, so clients see the two in either order). In
     * memory only: with {@code --data-dir}, a restart returns to the stored CA.
     *
     * @return the new CA
     */
    public DevCa revokeCa() {
        DevCa next = DevCa.create(config.trustDomain(), issuer.clock().instant());
        issuer.replaceCa(next);
        LOG.warn("dev SPIRE CA revoked: the old root left the bundle, every SVID is re-issued by the new one");
        subscriptions.changed();
        return next;
    }

    /** The CA (tests use its root as the trust bundle). */
    public DevCa ca() {
        return issuer.ca();
    }

    /** Open streams, for tests and status. */
    public int openStreams() {
        return subscriptions.size();
    }

    @Override
    public void close() {
        if (ticking != null) {
            ticking.cancel(false);
        }
        if (ownsRotation) {
            rotation.shutdownNow();
        }
        subscriptions.closeAll();
        tcpServers.forEach(io.grpc.Server::shutdownNow);
        servers.forEach(UnixSockets.UnixServer::close);
    }
}
