package dev.meshauth.spire.delegated;

import dev.meshauth.spire.SvidException;
import dev.meshauth.spire.WireIds;
import dev.meshauth.spire.svid.DerCodec;
import dev.meshauth.spire.svid.SvidValidator;
import dev.meshauth.spire.svid.WorkloadSvid;
import io.spiffe.spiffeid.TrustDomain;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509SVIDsResponse;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.X509SVIDWithKey;

import java.io.ByteArrayOutputStream;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The node's identities as last received: pure state transitions from full-state updates to events,
 * with no I/O, so every rule (validation, rotation, removal, "a bad SVID never replaces a good one") is
 * testable without a stream.
 */
final class IdentityState {
    private final TrustDomain trustDomain;
    private Map<Long, WorkloadSvid> svids = Map.of();
    private Map<String, WorkloadSvid> bySpiffeId = Map.of();
    private List<X509Certificate> roots = List.of();
    private SubscribeToX509SVIDsResponse pending; // waiting for the first bundle
    private SubscribeToX509SVIDsResponse last; // the latest SVID update applied, re-judged when the bundle changes
    private List<X509Certificate> validatedAgainst = List.of(); // the roots the held SVIDs were checked with

    IdentityState(TrustDomain trustDomain) {
        this.trustDomain = trustDomain;
    }

    Map<Long, WorkloadSvid> svids() {
        return svids;
    }

    List<X509Certificate> roots() {
        return roots;
    }

    /** Applies a full-state SVID update; returns the events it causes. */
    private long applied;

    List<IdentityEvent> applySvids(SubscribeToX509SVIDsResponse update, Instant now) {
        if (roots.isEmpty()) {
            pending = update; // cannot validate without the bundle; applied when it arrives
            return List.of();
        }
        last = update;
        List<IdentityEvent> events = new ArrayList<>();
        Map<Long, WorkloadSvid> next = new HashMap<>();
        java.util.Set<String> rejected = new java.util.HashSet<>();
        for (X509SVIDWithKey item : update.getX509SvidsList()) {
            String id = item.hasX509Svid() ? WireIds.toString(item.getX509Svid().getId()) : "(missing)";
            try {
                WorkloadSvid svid = reuseOrParse(item, now);
                if (svid.identity().isEmpty()) {
                    events.add(new IdentityEvent.SvidRejected(id, "not a security identity (path must be /identity/<n>)"));
                    continue;
                }
                next.merge(svid.identity().getAsLong(), svid, IdentityState::preferred);
            } catch (SvidException e) {
                events.add(new IdentityEvent.SvidRejected(id, e.getMessage()));
                rejected.add(id);
                // The previous SVID stays only while it still chains to the current bundle (a revoked CA's do not).
                previousFor(id).filter(prev -> stillValid(prev, now)).ifPresent(prev -> next.put(prev.identity().getAsLong(), prev));
            }
        }
        for (Map.Entry<Long, WorkloadSvid> e : next.entrySet()) {
            WorkloadSvid before = svids.get(e.getKey());
            if (before == null) {
                events.add(new IdentityEvent.SvidAdded(e.getKey(), e.getValue()));
            } else if (!before.sameMaterial(e.getValue())) {
                events.add(new IdentityEvent.SvidRotated(e.getKey(), before, e.getValue()));
            }
        }
        for (Map.Entry<Long, WorkloadSvid> e : svids.entrySet()) {
            if (!next.containsKey(e.getKey())) {
                events.add(new IdentityEvent.SvidRemoved(e.getKey(), e.getValue(),
                        rejected.contains(e.getValue().spiffeId().toString())));
            }
        }
        svids = Map.copyOf(next);
        Map<String, WorkloadSvid> index = new HashMap<>();
        next.values().forEach(v -> index.put(v.spiffeId().toString(), v));
        bySpiffeId = index;
        validatedAgainst = roots;
        applied++;
        return events;
    }

    /**
     * Of two SVIDs for one identity (two entries reach this agent, as while the operator moves an identity
     * from the cluster-wide parent to its node's), the one living longer, then the higher serial: the same
     * choice whatever order SPIRE lists them in, so no update flips between them.
     */
    static WorkloadSvid preferred(WorkloadSvid a, WorkloadSvid b) {
        int c = a.notAfter().compareTo(b.notAfter());
        if (c == 0) {
            c = new java.math.BigInteger(a.serial(), 16).compareTo(new java.math.BigInteger(b.serial(), 16));
        }
        return c >= 0 ? a : b;
    }

    /** The last SVID update applied (tests). */
    SubscribeToX509SVIDsResponse lastApplied() {
        return last;
    }

    /** How many SVID updates have been applied (one waiting for the bundle is not). */
    long appliedCount() {
        return applied;
    }

    /** Applies a bundle update; re-applies an SVID update that was waiting for it. */
    List<IdentityEvent> applyBundle(Map<String, byte[]> caCertificates, Instant now) {
        byte[] der = caCertificates.get(trustDomain.toIdString());
        if (der == null) {
            der = caCertificates.get(trustDomain.getName()); // the proto comment says "trust domain name"
        }
        List<IdentityEvent> events = new ArrayList<>();
        if (der == null) {
            events.add(new IdentityEvent.SvidRejected(trustDomain.toIdString(),
                    "bundle update has no entry for our trust domain; keeping the previous bundle"));
            return events;
        }
        List<X509Certificate> next;
        try {
            next = DerCodec.certificates(der);
            for (X509Certificate c : next) {
                if (c.getBasicConstraints() < 0) {
                    throw new SvidException(dev.meshauth.spire.SvidRule.PARSE, "root " + c.getSubjectX500Principal()
                            + " is not a CA certificate (no basicConstraints CA:true)");
                }
            }
        } catch (SvidException e) {
            events.add(new IdentityEvent.SvidRejected(trustDomain.toIdString(), "bundle update refused, keeping the previous bundle: " + e.getMessage()));
            return events;
        }
        if (!next.equals(roots)) {
            roots = List.copyOf(next);
            events.add(new IdentityEvent.BundleChanged(trustDomain.getName(), roots));
        }
        if (pending != null) {
            SubscribeToX509SVIDsResponse p = pending;
            pending = null;
            events.addAll(applySvids(p, now));
        } else if (events.stream().anyMatch(e -> e instanceof IdentityEvent.BundleChanged) && last != null) {
            // A new bundle re-judges what is held: SVIDs of a CA that left are dropped, and SVIDs that arrived
            // before the bundle naming their CA (the two streams race) are accepted now.
            events.addAll(applySvids(last, now));
        }
        return events;
    }

    private boolean stillValid(WorkloadSvid svid, Instant now) {
        try {
            SvidValidator.validateChain(svid.chain(), trustDomain, roots, now);
            return true;
        } catch (SvidException e) {
            return false;
        }
    }

    private Optional<WorkloadSvid> previousFor(String spiffeId) {
        return Optional.ofNullable(bySpiffeId.get(spiffeId));
    }

    /**
     * Full-state updates repeat every unchanged SVID; one already validated against the same bundle is
     * reused (its expiry still checked), so a 10 000-identity update costs one validation per change.
     */
    private WorkloadSvid reuseOrParse(X509SVIDWithKey item, Instant now) throws SvidException {
        if (item.getX509Svid().getCertChainCount() > 0) {
            byte[] leafDer = item.getX509Svid().getCertChain(0).toByteArray();
            for (WorkloadSvid held : candidates(item)) {
                try {
                    if (java.util.Arrays.equals(held.leaf().getEncoded(), leafDer)
                            && java.util.Arrays.equals(held.key().getEncoded(), item.getX509SvidKey().toByteArray())
                            && now.isBefore(held.notAfter()) && validatedAgainst == roots) {
                        return held;
                    }
                } catch (java.security.cert.CertificateEncodingException e) {
                    break; // fall through to a full parse
                }
            }
        }
        return parse(item, now);
    }

    private List<WorkloadSvid> candidates(X509SVIDWithKey item) {
        WorkloadSvid held = bySpiffeId.get(WireIds.toString(item.getX509Svid().getId()));
        return held == null ? List.of() : List.of(held);
    }

    private WorkloadSvid parse(X509SVIDWithKey item, Instant now) throws SvidException {
        ByteArrayOutputStream chain = new ByteArrayOutputStream();
        item.getX509Svid().getCertChainList().forEach(b -> chain.writeBytes(b.toByteArray()));
        List<X509Certificate> certs = DerCodec.certificates(chain.toByteArray());
        return SvidValidator.validate(certs, DerCodec.privateKey(item.getX509SvidKey().toByteArray()),
                item.getX509Svid().getHint(), trustDomain, roots, now);
    }
}
