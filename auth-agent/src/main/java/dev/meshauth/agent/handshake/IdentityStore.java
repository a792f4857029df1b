package dev.meshauth.agent.handshake;

import dev.meshauth.spire.svid.WorkloadSvid;
import io.spiffe.spiffeid.TrustDomain;

import java.security.cert.X509Certificate;
import java.util.List;
import java.util.Optional;

/**
 * What the handshakes need to know about this node's identities: the workload SVIDs held (from SPIRE's
 * Delegated Identity API), the trust bundle, and which identities have an endpoint on this node.
 */
public interface IdentityStore {
    /** The trust domain every peer must belong to. */
    TrustDomain trustDomain();

    /** The current, unexpired SVID of {@code identity}, if this node holds one. */
    Optional<WorkloadSvid> svid(long identity);

    /** The trust bundle's roots. */
    List<X509Certificate> roots();

    /** True if an endpoint with {@code identity} runs on this node (the server answers only for those). */
    boolean servesLocally(long identity);
}
