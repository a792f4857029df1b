package dev.meshauth.agent.handshake;

import dev.meshauth.spire.SpiffeIds;
import dev.meshauth.spire.SvidException;
import dev.meshauth.spire.svid.SvidValidator;
import io.spiffe.spiffeid.SpiffeId;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;

/**
 * Judges a peer's certificate chain with our X509-SVID validator against the current trust bundle. As a
 * server it requires a well-formed {@code spiffe://<td>/identity/<n>} client (Cilium does not check the
 * client's ID); as a client it requires exactly the expected server identity.
 */
final class SvidTrustManager extends X509ExtendedTrustManager {
    private final IdentityStore store;
    private final InstantSource clock;
    private final Optional<SpiffeId> expectedServer;
    private final VerifiedChains verified;

    SvidTrustManager(IdentityStore store, InstantSource clock, Optional<SpiffeId> expectedServer, VerifiedChains verified) {
        this.store = store;
        this.clock = clock;
        this.expectedServer = expectedServer;
        this.verified = verified;
    }

    private SpiffeId validate(X509Certificate[] chain) throws CertificateException {
        List<X509Certificate> roots = store.roots();
        java.time.Instant now = clock.instant();
        Optional<SpiffeId> known = verified.lookup(chain, roots, now);
        if (known.isPresent()) {
            return known.get();
        }
        try {
            SpiffeId id = SvidValidator.validateChain(List.of(chain), store.trustDomain(), roots, now);
            verified.remember(chain, roots, id);
            return id;
        } catch (SvidException e) {
            throw new CertificateException(e.getMessage(), e);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        SpiffeId id = validate(chain);
        if (SpiffeIds.identityOf(id).isEmpty()) {
            throw new CertificateException("client SPIFFE ID " + id + " is not spiffe://<td>/identity/<n>");
        }
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        SpiffeId id = validate(chain);
        if (expectedServer.isPresent() && !expectedServer.get().equals(id)) {
            throw new CertificateException("server presented " + id + ", expected " + expectedServer.get());
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return store.roots().toArray(X509Certificate[]::new);
    }
}
