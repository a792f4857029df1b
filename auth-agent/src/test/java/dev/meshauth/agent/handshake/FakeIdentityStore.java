package dev.meshauth.agent.handshake;

import dev.meshauth.spire.svid.WorkloadSvid;
import io.spiffe.spiffeid.TrustDomain;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/** A hand-filled {@link IdentityStore} for handshake tests: any SVID (good or bad) can be put in. */
final class FakeIdentityStore implements IdentityStore {
    private final TrustDomain td;
    private final List<X509Certificate> roots;
    final Map<Long, WorkloadSvid> svids = new ConcurrentHashMap<>();
    final Set<Long> local = ConcurrentHashMap.newKeySet();

    FakeIdentityStore(TrustDomain td, List<X509Certificate> roots) {
        this.td = td;
        this.roots = List.copyOf(roots);
    }

    @Override
    public TrustDomain trustDomain() {
        return td;
    }

    @Override
    public Optional<WorkloadSvid> svid(long identity) {
        return Optional.ofNullable(svids.get(identity));
    }

    @Override
    public List<X509Certificate> roots() {
        return roots;
    }

    @Override
    public boolean servesLocally(long identity) {
        return local.contains(identity);
    }
}
