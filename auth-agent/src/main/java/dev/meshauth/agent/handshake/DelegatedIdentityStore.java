package dev.meshauth.agent.handshake;

import dev.meshauth.spire.delegated.DelegatedIdentityClient;
import dev.meshauth.spire.svid.WorkloadSvid;
import io.spiffe.spiffeid.TrustDomain;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;
import java.util.function.LongPredicate;

/** The production {@link IdentityStore}: SVIDs and bundle from SPIRE's Delegated Identity API. */
public final class DelegatedIdentityStore implements IdentityStore {
    private final DelegatedIdentityClient client;
    private final TrustDomain trustDomain;
    private final LongPredicate servesLocally;

    /** Over {@code client}; {@code servesLocally} says which identities have endpoints on this node. */
    public DelegatedIdentityStore(DelegatedIdentityClient client, TrustDomain trustDomain, LongPredicate servesLocally) {
        this.client = client;
        this.trustDomain = trustDomain;
        this.servesLocally = servesLocally;
    }

    @Override
    public TrustDomain trustDomain() {
        return trustDomain;
    }

    @Override
    public Optional<WorkloadSvid> svid(long identity) {
        return client.svid(identity);
    }

    @Override
    public List<X509Certificate> roots() {
        return client.roots();
    }

    @Override
    public boolean servesLocally(long identity) {
        return servesLocally.test(identity);
    }
}
