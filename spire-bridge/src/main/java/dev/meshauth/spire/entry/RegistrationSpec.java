package dev.meshauth.spire.entry;

import dev.meshauth.spire.SpiffeIds;
import dev.meshauth.spire.WireIds;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import spire.api.types.EntryOuterClass.Entry;
import spire.api.types.SelectorOuterClass.Selector;

import java.util.List;
import java.util.Objects;
import java.util.OptionalLong;

/**
 * What an identity entry looks like: {@code spiffe://<td>/identity/<n>}, parent {@code /cilium-operator},
 * selector {@code cilium:mutual-auth} (Cilium's operator's shape, so Cilium-era entries are adopted).
 *
 * @param trustDomain the trust domain
 * @param parent      parent SPIFFE ID of every identity entry
 * @param selector    the one selector every identity entry carries
 * @param svidTtlSeconds x509_svid_ttl to set, 0 for the server default
 */
public record RegistrationSpec(TrustDomain trustDomain, SpiffeId parent, Selector selector, int svidTtlSeconds) {
    /** Checks the parent is in the trust domain. */
    public RegistrationSpec {
        Objects.requireNonNull(trustDomain);
        Objects.requireNonNull(parent);
        Objects.requireNonNull(selector);
        if (!parent.getTrustDomain().equals(trustDomain)) {
            throw new IllegalArgumentException("parent " + parent + " is not in trust domain " + trustDomain.getName());
        }
    }

    /** Cilium's defaults in {@code td}. */
    public static RegistrationSpec ciliumDefaults(TrustDomain td) {
        return new RegistrationSpec(td, SpiffeId.parse(td.toIdString() + "/cilium-operator"),
                Selector.newBuilder().setType("cilium").setValue("mutual-auth").build(), 0);
    }

    /** The entry we want for {@code identity}. */
    public Entry desired(long identity) {
        return Entry.newBuilder()
                .setSpiffeId(WireIds.toProto(SpiffeIds.forIdentity(trustDomain, identity)))
                .setParentId(WireIds.toProto(parent))
                .addSelectors(selector)
                .setX509SvidTtl(svidTtlSeconds)
                .build();
    }

    /** The identity an entry registers, if the entry is ours: our parent, exactly our selector, an identity path. */
    public OptionalLong ownedIdentity(Entry e) {
        if (!e.getParentId().equals(WireIds.toProto(parent)) || !e.getSelectorsList().equals(List.of(selector))
                || !e.getSpiffeId().getTrustDomain().equals(trustDomain.getName())) {
            return OptionalLong.empty();
        }
        return SpiffeIds.identityOf(SpiffeId.parse(WireIds.toString(e.getSpiffeId())));
    }

    /** True if {@code existing} differs from what we want in a field we set. */
    public boolean drifted(Entry existing) {
        return existing.getX509SvidTtl() != svidTtlSeconds;
    }
}
