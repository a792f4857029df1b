package dev.meshauth.policy.eval;

import dev.meshauth.policy.model.AuthType;

import java.util.Set;
import java.util.TreeSet;

/**
 * A policy map value, with where it came from.
 *
 * @param deny         drop
 * @param authType     authentication required (never on a deny)
 * @param explicitAuth the auth type was set by a rule's {@code authentication.mode} (Cilium's
 *                     ExplicitAuthType), not defaulted
 * @param reasons      the rules behind it, "namespace/name ingress[0]"
 */
public record EntryValue(boolean deny, AuthType authType, boolean explicitAuth, Set<String> reasons) {
    /** Copies reasons into a sorted set. */
    public EntryValue {
        reasons = Set.copyOf(new TreeSet<>(reasons));
        if (deny && authType != AuthType.DISABLED) {
            throw new IllegalArgumentException("deny entries never require authentication");
        }
    }

    /**
     * Merges two values for the same key (Cilium's mapstate): deny wins; explicit auth beats default;
     * between explicit ones the higher type wins.
     */
    EntryValue merge(EntryValue o) {
        Set<String> rs = new TreeSet<>(reasons);
        rs.addAll(o.reasons);
        if (deny || o.deny) {
            return new EntryValue(true, AuthType.DISABLED, false, deny && o.deny ? rs : (deny ? reasons : o.reasons));
        }
        if (explicitAuth != o.explicitAuth) {
            EntryValue winner = explicitAuth ? this : o;
            return new EntryValue(false, winner.authType, true, rs);
        }
        return new EntryValue(false, AuthType.max(authType, o.authType), explicitAuth, rs);
    }
}
