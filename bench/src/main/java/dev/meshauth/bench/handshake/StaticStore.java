package dev.meshauth.bench.handshake;

import dev.meshauth.agent.handshake.IdentityStore;
import dev.meshauth.spire.svid.WorkloadSvid;
import io.spiffe.spiffeid.TrustDomain;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/** A fixed set of SVIDs, all served on this "node": the benchmarks' identity store. */
public record StaticStore(TrustDomain trustDomain, List<X509Certificate> roots, Map<Long, WorkloadSvid> svids)
        implements IdentityStore {
    @Override
    public Optional<WorkloadSvid> svid(long identity) {
        return Optional.ofNullable(svids.get(identity));
    }

    @Override
    public boolean servesLocally(long identity) {
        return svids.containsKey(identity);
    }
}
