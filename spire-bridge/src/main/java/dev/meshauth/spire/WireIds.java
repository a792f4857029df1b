package dev.meshauth.spire;

import io.spiffe.spiffeid.SpiffeId;
import spire.api.types.Spiffeid.SPIFFEID;

/** SPIFFE IDs between java-spiffe and SPIRE's {@code {trust_domain, path}} message. */
public final class WireIds {
    private WireIds() {
    }

    /** To the wire. */
    public static SPIFFEID toProto(SpiffeId id) {
        return SPIFFEID.newBuilder().setTrustDomain(id.getTrustDomain().getName()).setPath(id.getPath()).build();
    }

    /** "spiffe://td/path" for logs, whatever the message holds. */
    public static String toString(SPIFFEID id) {
        return "spiffe://" + id.getTrustDomain() + id.getPath();
    }

    /** From the wire (unchecked: callers validate what they receive). */
    public static SpiffeId fromProto(SPIFFEID id) {
        return SpiffeId.parse("spiffe://" + id.getTrustDomain() + id.getPath());
    }
}
