package dev.meshauth.agent.handshake;

import dev.meshauth.spire.svid.WorkloadSvid;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedKeyManager;
import java.net.Socket;
import java.security.Principal;
import java.security.PrivateKey;
import java.security.cert.X509Certificate;

/**
 * One SVID as a TLS context's key material, handed over as it is. Netty's default route from a key and
 * a chain is a password-protected PKCS#12 key store (PBKDF2, 10,000 HMAC-SHA256 rounds), which made
 * building a context cost milliseconds: the listener builds one per local identity and again at every
 * rotation, so a rotation storm over 5,000 identities spent most of a node's CPU there.
 */
final class SvidKeyManager extends X509ExtendedKeyManager {
    private static final String ALIAS = "svid";
    private final WorkloadSvid svid;
    private final X509Certificate[] chain;

    SvidKeyManager(WorkloadSvid svid) {
        this.svid = svid;
        this.chain = svid.chain().toArray(X509Certificate[]::new);
    }

    /** Our alias for a key type TLS asks for (EC, EC_EC, RSA...) that our key's algorithm can serve. */
    private String aliasFor(String keyType) {
        return keyType != null && keyType.startsWith(svid.key().getAlgorithm()) ? ALIAS : null;
    }

    private String aliasFor(String[] keyTypes) {
        if (keyTypes != null) {
            for (String t : keyTypes) {
                if (aliasFor(t) != null) {
                    return ALIAS;
                }
            }
        }
        return null;
    }

    @Override
    public String[] getClientAliases(String keyType, Principal[] issuers) {
        return aliasFor(keyType) == null ? null : new String[] {ALIAS};
    }

    @Override
    public String chooseClientAlias(String[] keyTypes, Principal[] issuers, Socket socket) {
        return aliasFor(keyTypes);
    }

    @Override
    public String chooseEngineClientAlias(String[] keyTypes, Principal[] issuers, SSLEngine engine) {
        return aliasFor(keyTypes);
    }

    @Override
    public String[] getServerAliases(String keyType, Principal[] issuers) {
        return aliasFor(keyType) == null ? null : new String[] {ALIAS};
    }

    @Override
    public String chooseServerAlias(String keyType, Principal[] issuers, Socket socket) {
        return aliasFor(keyType);
    }

    @Override
    public String chooseEngineServerAlias(String keyType, Principal[] issuers, SSLEngine engine) {
        return aliasFor(keyType);
    }

    @Override
    public X509Certificate[] getCertificateChain(String alias) {
        return ALIAS.equals(alias) ? chain.clone() : null;
    }

    @Override
    public PrivateKey getPrivateKey(String alias) {
        return ALIAS.equals(alias) ? svid.key() : null;
    }
}
