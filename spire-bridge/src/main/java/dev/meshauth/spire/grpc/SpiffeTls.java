package dev.meshauth.spire.grpc;

import dev.meshauth.spire.SpiffeIds;
import dev.meshauth.spire.SvidException;
import dev.meshauth.spire.svid.SvidValidator;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.InstantSource;
import java.util.Collection;
import java.util.List;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * mTLS between SPIFFE workloads for the SPIRE server API over TCP: our certificate comes from a
 * supplier read at every handshake (SVID rotation needs no reconnect logic), and the peer's chain is
 * judged by our X509-SVID validator against the current bundle, then its SPIFFE ID by a predicate (the
 * exact server ID for a client; the admin IDs for the server).
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

    /**
     * A trust manager accepting only X509-SVIDs of {@code trustDomain} that chain to {@code roots} and whose
     * SPIFFE ID {@code authorized} accepts ({@code expected} names what it wanted, for the error).
     */
    public static X509ExtendedTrustManager trustManager(TrustDomain trustDomain, Supplier<Collection<X509Certificate>> roots,
            Predicate<SpiffeId> authorized, String expected, InstantSource clock) {
        return new X509ExtendedTrustManager() {
            private void check(X509Certificate[] chain) throws CertificateException {
                SpiffeId id;
                try {
                    id = SvidValidator.validateChain(List.of(chain), trustDomain, roots.get(), clock.instant());
                } catch (SvidException e) {
                    throw new CertificateException(e.getMessage(), e);
                }
                if (!authorized.test(id)) {
                    throw new CertificateException("peer " + id + " is not " + expected);
                }
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                check(chain);
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
                check(chain);
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
                check(chain);
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
                check(chain);
            }

            @Override
            public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                    throws CertificateException {
                check(chain);
            }

            @Override
            public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine)
                    throws CertificateException {
                check(chain);
            }

            @Override
            public X509Certificate[] getAcceptedIssuers() {
                return roots.get().toArray(X509Certificate[]::new);
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
