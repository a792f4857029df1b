package dev.meshauth.spire.grpc;

import dev.meshauth.spire.SpiffeIds;
import dev.meshauth.spire.SvidException;
import io.spiffe.spiffeid.SpiffeId;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;
import java.util.List;
import java.util.function.Supplier;

/**
 * mTLS between SPIFFE workloads for the SPIRE server API over TCP: our certificate comes from a
 * supplier read at every handshake (SVID rotation needs no reconnect logic); the peer is judged by
 * {@link dev.meshauth.spire.svid.SvidTrustManager}, the one trust decision for SPIFFE peers.
 */
public final class SpiffeTls {
    private SpiffeTls() {
    }

    /** Our certificate and key, read at each handshake. */
    public record Identity(Supplier<List<X509Certificate>> chain, Supplier<PrivateKey> key) {
    }

    /** A key manager presenting {@code id}'s current SVID. */
    public static X509ExtendedKeyManager keyManager(Identity id) {
        return new X509ExtendedKeyManager() {
            private static final String ALIAS = "svid";

            @Override
            public String[] getClientAliases(String keyType, Principal[] issuers) {
                return new String[] {ALIAS};
            }

            @Override
            public String chooseClientAlias(String[] keyType, Principal[] issuers, Socket socket) {
                return ALIAS;
            }

            @Override
            public String chooseEngineClientAlias(String[] keyType, Principal[] issuers, SSLEngine engine) {
                return ALIAS;
            }

            @Override
            public String[] getServerAliases(String keyType, Principal[] issuers) {
                return new String[] {ALIAS};
            }

            @Override
            public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
                return ALIAS;
            }

            @Override
            public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
                return ALIAS;
            }

            @Override
            public X509Certificate[] getCertificateChain(String alias) {
                return id.chain().get().toArray(X509Certificate[]::new);
            }

            @Override
            public PrivateKey getPrivateKey(String alias) {
                return id.key().get();
            }
        };
    }

    /** The SPIFFE ID in a verified peer chain's leaf, if it has one. */
    public static java.util.Optional<SpiffeId> peerId(java.security.cert.Certificate[] chain) {
        if (chain == null || chain.length == 0 || !(chain[0] instanceof X509Certificate leaf)) {
            return java.util.Optional.empty();
        }
        try {
            return java.util.Optional.of(SpiffeIds.ofLeaf(leaf));
        } catch (SvidException e) {
            return java.util.Optional.empty();
        }
    }
}
