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
 * What an identity entry looks like: {@code spiffe://<td>/identity/<n>}, selector {@code cilium:mutual-auth}
 * (Cilium's operator's shape, so Cilium-era entries are adopted), the parent its {@link Registration} says.
 *
 * @param trustDomain    the trust domain
 * @param selector       the one selector every identity entry carries
 * @param svidTtlSeconds x509_svid_ttl to set, 0 for the server default
 */
public record RegistrationSpec(TrustDomain trustDomain, Selector selector, int svidTtlSeconds) {
    /** Requires both. */
    public RegistrationSpec {
        Objects.requireNonNull(trustDomain);
        Objects.requireNonNull(selector);
    }

    /** Cilium's selector in {@code td}. */
    public static RegistrationSpec ciliumDefaults(TrustDomain td) {
        return new RegistrationSpec(td, Selector.newBuilder().setType("cilium").setValue("mutual-auth").build(), 0);
    }

    /** Cilium's operator's ID in {@code td}: the cluster-wide parent of identity entries. */
    public static SpiffeId ciliumOperator(TrustDomain td) {
        return SpiffeId.parse(td.toIdString() + "/cilium-operator");
    }

    /**
     * The entry wanted for {@code r}.
     *
     * @throws IllegalArgumentException if the parent is not in the trust domain
     */
    public Entry desired(Registration r) {
        if (!r.parent().getTrustDomain().equals(trustDomain)) {
            throw new IllegalArgumentException("parent " + r.parent() + " is not in trust domain " + trustDomain.getName());
        }
        return Entry.newBuilder()
                .setSpiffeId(WireIds.toProto(SpiffeIds.forIdentity(trustDomain, r.identity())))
                .setParentId(WireIds.toProto(r.parent()))
                .addSelectors(selector)
                .setX509SvidTtl(svidTtlSeconds)
                .build();
    }

    /** The identity an entry registers if it has the operator's shape: exactly our selector, an identity path in our trust domain. */
    public OptionalLong identityOf(Entry e) {
        if (!e.getSelectorsList().equals(List.of(selector)) || !e.getSpiffeId().getTrustDomain().equals(trustDomain.getName())) {
            return OptionalLong.empty();
        }
        return SpiffeIds.identityOf(SpiffeId.parse(WireIds.toString(e.getSpiffeId())));
    }

    /** True if {@code existing} differs from what we want in a field we set. */
    public boolean drifted(Entry existing) {
        return existing.getX509SvidTtl() != svidTtlSeconds;
    }
}
