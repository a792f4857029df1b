package dev.meshauth.agent.handshake;

import dev.meshauth.spire.svid.WorkloadSvid;
import io.netty.handler.ssl.ClientAuth;
import io.netty.handler.ssl.OpenSsl;
import io.netty.handler.ssl.SslContext;
import io.netty.handler.ssl.SslContextBuilder;
import io.netty.handler.ssl.SslProvider;
import io.spiffe.spiffeid.SpiffeId;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import javax.net.ssl.SSLException;
import java.security.cert.X509Certificate;
import java.time.InstantSource;
import java.util.Optional;

/** TLS 1.3-only contexts with an SVID as key material and {@link SvidTrustManager} as judge. */
final class TlsContexts {
    private static final Logger LOG = LoggerFactory.getLogger(TlsContexts.class);
    static final SslProvider PROVIDER = chooseProvider();

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

    /** Shared by every context of the process: peers verified once are not re-verified until NotAfter. */
    /** The TLS implementation in use: "boringssl" (netty-tcnative) or "jdk". */
    public static String providerName() {
        return PROVIDER == SslProvider.JDK ? "jdk" : "boringssl";
    }

    static final VerifiedChains VERIFIED = new VerifiedChains();
    private static final java.util.Map<String, SslContext> CLIENTS = new java.util.concurrent.ConcurrentHashMap<>();

    static SslContext server(WorkloadSvid svid, IdentityStore store, InstantSource clock) throws SSLException {
        return SslContextBuilder.forServer(svid.key(), svid.chain().toArray(X509Certificate[]::new))
                .sslProvider(PROVIDER)
                .protocols("TLSv1.3")
                .clientAuth(ClientAuth.REQUIRE)
                .trustManager(new SvidTrustManager(store, clock, Optional.empty(), VERIFIED))
                .build();
    }

    /** A client context, reused while the local SVID, the expected peer and the bundle stay the same. */
    static SslContext client(WorkloadSvid svid, SpiffeId expectedServer, IdentityStore store, InstantSource clock)
            throws SSLException {
        String key = svid.spiffeId() + "/" + svid.serial() + "/" + expectedServer + "/" + store.roots().hashCode()
                + "/" + System.identityHashCode(store);
        SslContext ctx = CLIENTS.get(key);
        if (ctx == null) {
            if (CLIENTS.size() >= 4096) {
                CLIENTS.clear();
            }
            ctx = newClient(svid, expectedServer, store, clock);
            CLIENTS.put(key, ctx);
        }
        return ctx;
    }

    private static SslContext newClient(WorkloadSvid svid, SpiffeId expectedServer, IdentityStore store,
            InstantSource clock) throws SSLException {
        return SslContextBuilder.forClient()
                .sslProvider(PROVIDER)
                .protocols("TLSv1.3")
                .keyManager(svid.key(), svid.chain().toArray(X509Certificate[]::new))
                .trustManager(new SvidTrustManager(store, clock, Optional.of(expectedServer), VERIFIED))
                .build();
    }
}
