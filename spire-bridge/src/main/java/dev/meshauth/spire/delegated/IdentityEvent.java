package dev.meshauth.spire.delegated;

import dev.meshauth.spire.svid.WorkloadSvid;

import java.security.cert.X509Certificate;
import java.util.List;

/** What changed in the identities this node holds. */
public sealed interface IdentityEvent {
    /** An identity's SVID arrived for the first time. */
    record SvidAdded(long identity, WorkloadSvid svid) implements IdentityEvent {
    }

    /** An identity's SVID changed (new chain or expiry): rotation. */
    record SvidRotated(long identity, WorkloadSvid previous, WorkloadSvid svid) implements IdentityEvent {
    }

    /**
     * An identity has no usable SVID any more: absent from a full-state update (its entry was deleted or no
     * longer matches), or {@code stillListed} but rejected (expired, say: a spire-agent that cannot reach
     * its server keeps serving what it has) with no valid previous one.
     */
    record SvidRemoved(long identity, WorkloadSvid previous, boolean stillListed) implements IdentityEvent {
        /** Absent from the update: SPIRE no longer issues it. */
        public SvidRemoved(long identity, WorkloadSvid previous) {
            this(identity, previous, false);
        }
    }

    /**
     * After an SVID update was applied (the SPIRE agent sends its full state each time): the identities
     * whose SVIDs are held now. An identity not in it has none, including one whose entry was removed
     * while nobody was listening (an agent restarted).
     */
    record SvidsHeld(java.util.Set<Long> identities) implements IdentityEvent {
    }

    /** A received SVID broke a rule and was discarded; the previous one (if any) stays. */
    record SvidRejected(String spiffeId, String reason) implements IdentityEvent {
    }

    /** The trust bundle of the trust domain changed. */
    record BundleChanged(String trustDomain, List<X509Certificate> roots) implements IdentityEvent {
    }

    /** A stream to the SPIRE agent went down; SVIDs held are served until they expire. */
    record StreamDown(String stream, String reason) implements IdentityEvent {
    }

    /** A stream (re)connected and delivered its first full state. */
    record StreamUp(String stream) implements IdentityEvent {
    }
}
