package dev.meshauth.spire.grpc;

import dev.meshauth.spire.svid.SvidTrustManager;
import io.grpc.ManagedChannel;
import io.grpc.netty.shaded.io.grpc.netty.GrpcSslContexts;
import io.grpc.netty.shaded.io.grpc.netty.NettyChannelBuilder;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;

import javax.net.ssl.SSLException;
import java.security.cert.X509Certificate;
import java.time.InstantSource;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.function.Supplier;

/**
 * A channel to the SPIRE server API over TCP, as Cilium's operator reaches it: mutual TLS 1.3 with this
 * workload's X509-SVID, the server required to be exactly {@code serverId} (SPIRE's is
 * {@code spiffe://<td>/spire/server}); the server then authorizes the caller's ID against its
 * {@code admin_ids}.
 */
public final class SpireServerChannels {
    private SpireServerChannels() {
    }

    /**
     * Opens (lazily) a channel to {@code host:port}.
     *
     * @throws SSLException if the TLS context cannot be built
     */
    public static ManagedChannel tls(String host, int port, SpiffeTls.Identity me, TrustDomain trustDomain,
            Supplier<Collection<X509Certificate>> roots, SpiffeId serverId, int maxInboundBytes) throws SSLException {
        var ssl = GrpcSslContexts.forClient()
                .protocols("TLSv1.3")
                .keyManager(SpiffeTls.keyManager(me))
                .trustManager(new SvidTrustManager(() -> trustDomain, () -> List.copyOf(roots.get()), InstantSource.system(),
                        SvidTrustManager.PeerRule.any(), new SvidTrustManager.PeerRule(serverId::equals,
                                "the SPIRE server " + serverId), Optional.empty()))
                .build();
        return NettyChannelBuilder.forAddress(host, port)
                .sslContext(ssl)
                .overrideAuthority("spire-server") // the server is authenticated by its SPIFFE ID, not a DNS name
                .maxInboundMessageSize(maxInboundBytes)
                .build();
    }
}
