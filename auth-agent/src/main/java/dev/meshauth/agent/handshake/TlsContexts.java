package dev.meshauth.agent.handshake;

import dev.meshauth.spire.SpiffeIds;
import dev.meshauth.spire.svid.SvidTrustManager;
import dev.meshauth.spire.svid.VerifiedChains;
import dev.meshauth.spire.svid.WorkloadSvid;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.OpenSslContextOption;
import io.netty.handler.ssl.ReferenceCountedOpenSslEngine;
import io.netty.internal.tcnative.SSL;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.time.InstantSource;
import java.util.Optional;

/** TLS 1.3-only contexts with an SVID as key material and {@link SvidTrustManager} as judge. */
final class TlsContexts {
    private static final Logger LOG = LoggerFactory.getLogger(TlsContexts.class);
    static final SslProvider PROVIDER = chooseProvider();
    /** Chains already verified, shared by every context; {@code -Dmeshauth.tls.noVerifyCache=true} measures cold. */
    private static final Optional<VerifiedChains> VERIFIED = Boolean.getBoolean("meshauth.tls.noVerifyCache")
            ? Optional.empty() : Optional.of(new VerifiedChains());
    /** Clients are agents serving a workload identity: spiffe://td/identity/N (Cilium checks only the chain). */
    private static final SvidTrustManager.PeerRule AGENT_CLIENTS = new SvidTrustManager.PeerRule(
            id -> SpiffeIds.identityOf(id).isPresent(), "spiffe://<trust domain>/identity/<n>");
    /**
     * Key-exchange groups, X25519 first, on both sides. A handshake that only authenticates protects no
     * data, so a hybrid post-quantum group (X25519MLKEM768, which Go 1.24+ and BoringSSL builds prefer) buys
     * nothing here and costs CPU and a 1.2 KB key share each way; P-256 and P-384 stay for peers without
     * X25519 (FIPS builds). Every TLS 1.3 peer that prefers a hybrid also offers X25519 (Go does), so the
     * handshake needs no extra round trip in either direction. {@code -Dmeshauth.tls.groups=A:B} (benchmarks
     * only) measures another list.
     */
    static final String[] GROUPS = System.getProperty("meshauth.tls.groups", "X25519:P-256:P-384").split(":");
    private static final java.util.Map<String, SslContext> CLIENTS = new java.util.concurrent.ConcurrentHashMap<>();

    private TlsContexts() {
    }

    private static SslProvider chooseProvider() {
        if ("jdk".equalsIgnoreCase(System.getProperty("meshauth.tls.provider"))) {
            LOG.warn("using the JDK's TLS for mutual authentication: -Dmeshauth.tls.provider=jdk");
            return SslProvider.JDK;
        }
        if (OpenSsl.isAvailable()) {
            return SslProvider.OPENSSL;
        }
        LOG.atWarn().setMessage("BoringSSL (netty-tcnative) unavailable, using the JDK's TLS for mutual authentication")
                .addKeyValue("cause", OpenSsl.unavailabilityCause() == null ? "unknown" : OpenSsl.unavailabilityCause().toString())
                .log();
        return SslProvider.JDK;
    }

    /** The TLS implementation in use: "boringssl" (netty-tcnative) or "jdk". */
    public static String providerName() {
        return PROVIDER == SslProvider.JDK ? "jdk" : "boringssl";
    }

    private static javax.net.ssl.X509ExtendedTrustManager trustManager(IdentityStore store, InstantSource clock,
            SvidTrustManager.ServerRule servers) {
        SvidTrustManager svids = new SvidTrustManager(store::trustDomain, store::roots, clock, AGENT_CLIENTS, servers, VERIFIED);
        return PROVIDER == SslProvider.OPENSSL ? new AlertingTrustManager(svids) : svids; // the JDK picks its own alert
    }

    /** The group and cipher suite {@code engine}'s completed handshake agreed on. */
    static HandshakeResult.Negotiated negotiated(javax.net.ssl.SSLEngine engine) {
        String group = "unknown";
        if (engine instanceof ReferenceCountedOpenSslEngine openssl) {
            try {
                group = SSL.getGroupName(openssl.sslPointer());
            } catch (Exception e) { // only if the engine was freed under us: the handshake is over anyway
                group = "unknown";
            }
        }
        return new HandshakeResult.Negotiated(group, engine.getSession().getCipherSuite());
    }

    /** BoringSSL takes {@link #GROUPS}; the JDK's TLS (a fallback) keeps its defaults, X25519 first. */
    private static SslContextBuilder groups(SslContextBuilder b) {
        return PROVIDER == SslProvider.OPENSSL ? b.option(OpenSslContextOption.GROUPS, GROUPS) : b;
    }

    static SslContext server(WorkloadSvid svid, IdentityStore store, InstantSource clock) throws SSLException {
        return groups(SslContextBuilder.forServer(new SvidKeyManager(svid)))
                .sslProvider(PROVIDER)
                .protocols("TLSv1.3")
                .clientAuth(ClientAuth.REQUIRE)
                .trustManager(trustManager(store, clock, engine -> SvidTrustManager.PeerRule.any()))
                .build();
    }

    /**
     * A client context for {@code svid}, reused for every peer while the SVID and the bundle stay the same:
     * the server each handshake must present is the one it named in SNI ({@link #serverNamedInSni}), so a
     * node authenticating one local identity to 5,000 remote ones builds one context, not 5,000.
     */
    static SslContext client(WorkloadSvid svid, IdentityStore store, InstantSource clock) throws SSLException {
        String key = svid.spiffeId() + "/" + svid.serial() + "/" + store.roots().hashCode() + "/" + System.identityHashCode(store);
        SslContext ctx = CLIENTS.get(key);
        if (ctx == null) {
            if (CLIENTS.size() >= 4096) {
                CLIENTS.clear();
            }
            ctx = newClient(svid, store, clock);
            CLIENTS.put(key, ctx);
        }
        return ctx;
    }

    /**
     * The server a client handshake accepts: exactly {@code spiffe://<td>/identity/<n>} for the SNI
     * {@code <n>.<td>} its engine sent, as Cilium's handler checks the URI SAN against the identity it asked
     * for; without an engine or such a name, nothing.
     */
    static SvidTrustManager.PeerRule serverNamedInSni(java.util.Optional<javax.net.ssl.SSLEngine> engine,
            io.spiffe.spiffeid.TrustDomain td) {
        String host = engine.map(javax.net.ssl.SSLEngine::getPeerHost).orElse("");
        String suffix = "." + td.getName();
        if (host.endsWith(suffix)) {
            try {
                long id = Long.parseLong(host.substring(0, host.length() - suffix.length()));
                return SvidTrustManager.PeerRule.exactly(SpiffeIds.forIdentity(td, id));
            } catch (NumberFormatException e) {
                // not an identity: refused below
            }
        }
        return new SvidTrustManager.PeerRule(id -> false, "the identity named in SNI (the client sent \"" + host + "\")");
    }

    private static SslContext newClient(WorkloadSvid svid, IdentityStore store, InstantSource clock) throws SSLException {
        return groups(SslContextBuilder.forClient())
                .sslProvider(PROVIDER)
                .protocols("TLSv1.3")
                .keyManager(new SvidKeyManager(svid))
                .trustManager(trustManager(store, clock, engine -> serverNamedInSni(engine, store.trustDomain())))
                .build();
    }
}
