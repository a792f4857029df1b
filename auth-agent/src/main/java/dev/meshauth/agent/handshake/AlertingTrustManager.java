package dev.meshauth.agent.handshake;

import dev.meshauth.spire.SvidRule;
import dev.meshauth.spire.svid.SvidRejectedException;
import dev.meshauth.spire.svid.SvidTrustManager;
import io.netty.handler.ssl.OpenSslCertificateException;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.cert.CertificateException;
import java.security.cert.X509Certificate;

/**
 * The SVID trust manager for BoringSSL, choosing the TLS alert the refused peer receives as Go's
 * crypto/tls chooses it (Cilium's handler runs on it): {@code unknown_ca} for a chain that does not reach
 * the bundle, {@code certificate_expired} for a certificate outside its validity, {@code bad_certificate}
 * for every other rule (SPIFFE ID, profile, identity). BoringSSL derives the alert from an X509 verify
 * error; netty carries ours in {@link OpenSslCertificateException}. The refusal stays its cause, so the
 * failure is still classified and logged by its rule.
 */
final class AlertingTrustManager extends X509ExtendedTrustManager {
    // X509_V_ERR_* (openssl/x509_vfy.h), mapped to alerts by BoringSSL's ssl_verify_alarm_type.
    static final int UNABLE_TO_GET_ISSUER_CERT_LOCALLY = 20; // unknown_ca
    static final int CERT_HAS_EXPIRED = 10; // certificate_expired
    static final int CERT_REJECTED = 28; // bad_certificate

    private final SvidTrustManager delegate;

    AlertingTrustManager(SvidTrustManager delegate) {
        this.delegate = delegate;
    }

    /** The X509 verify error for a refusal. */
    static int errorCode(SvidRejectedException e) {
        return switch (e.rule().orElse(SvidRule.PARSE)) {
            case CHAIN_VERIFIES, SIGNING_CERT_CA -> UNABLE_TO_GET_ISSUER_CERT_LOCALLY;
            case VALIDITY -> CERT_HAS_EXPIRED;
            default -> CERT_REJECTED;
        };
    }

    private interface Check {
        void run() throws CertificateException;
    }

    private static void alerting(Check c) throws CertificateException {
        try {
            c.run();
        } catch (SvidRejectedException e) {
            throw new OpenSslCertificateException(e.getMessage(), e, errorCode(e));
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        alerting(() -> delegate.checkClientTrusted(chain, authType));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws CertificateException {
        alerting(() -> delegate.checkServerTrusted(chain, authType));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        alerting(() -> delegate.checkClientTrusted(chain, authType, socket));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws CertificateException {
        alerting(() -> delegate.checkServerTrusted(chain, authType, socket));
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        alerting(() -> delegate.checkClientTrusted(chain, authType, engine));
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws CertificateException {
        alerting(() -> delegate.checkServerTrusted(chain, authType, engine));
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return delegate.getAcceptedIssuers();
    }
}
