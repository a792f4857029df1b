package dev.meshauth.policy.eval;

import dev.meshauth.policy.model.AuthType;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;

/**
 * Turns one local identity's merged entries into what the datapath's first-hit lookup must find, as
 * Cilium's mapstate does: deny wins over every allow it overlaps, and an explicit auth type reaches the
 * more specific entries without one. Linear in the entries: each key looks up the at most 36 keys that
 * can cover it, never compares itself with every other key.
 */
final class Propagation {
    private Propagation() {
    }

    /**
     * Deny into covered allows; explicit auth from covering entries into specific default ones; and where a
     * specific-remote entry is wider in port than an any-remote deny or explicit-auth entry (so the lookup
     * would hit it first), a key for the narrower part under that remote, which then takes the deny or
     * auth.
     */
    static Map<EntryKey, EntryValue> propagate(Map<EntryKey, EntryValue> raw, Budget budget) {
        Map<EntryKey, EntryValue> all = new HashMap<>(raw);
        intersect(raw, all, budget);
        Map<EntryKey, EntryValue> out = new HashMap<>(all.size() * 2);
        for (var e : all.entrySet()) {
            EntryKey k = e.getKey();
            EntryValue v = e.getValue();
            if (!v.deny()) {
                v = fromCovering(all, v, k.wider());
                if (!v.deny() && k.remote() != 0) {
                    EntryKey any = k.withRemote(0);
                    v = fromCovering(all, v, List.of(any));
                    if (!v.deny()) {
                        v = fromCovering(all, v, any.wider());
                    }
                }
            }
            out.put(k, v);
            budget.charge(1);
        }
        return out;
    }

    /** Adds the specific-remote keys for the parts of any-remote deny and explicit-auth entries. */
    private static void intersect(Map<EntryKey, EntryValue> raw, Map<EntryKey, EntryValue> all, Budget budget) {
        Map<EntryKey, List<Long>> remotesByPart = new HashMap<>();
        for (EntryKey k : raw.keySet()) {
            if (k.remote() != 0) {
                remotesByPart.computeIfAbsent(k.withRemote(0), x -> new ArrayList<>()).add(k.remote());
            }
        }
        if (remotesByPart.isEmpty()) {
            return;
        }
        for (var e : raw.entrySet()) {
            EntryKey k0 = e.getKey();
            EntryValue v0 = e.getValue();
            if (k0.remote() != 0 || !(v0.deny() || v0.explicitAuth())) {
                continue;
            }
            for (EntryKey wider : k0.wider()) { // most specific first: the first hit per remote is its lookup's
                List<Long> remotes = remotesByPart.get(wider);
                if (remotes == null) {
                    continue;
                }
                for (long x : remotes) {
                    EntryKey ix = k0.withRemote(x);
                    if (!all.containsKey(ix)) {
                        EntryValue base = raw.get(wider.withRemote(x));
                        if (changes(v0, base)) {
                            all.put(ix, base);
                            budget.charge(1);
                        } else {
                            all.put(ix, null); // decided: the wider entry's verdict stands; dropped below
                        }
                    }
                }
            }
        }
        all.values().removeIf(java.util.Objects::isNull);
    }

    /** True if {@code o}, covering an entry with value {@code base}, would change it. */
    private static boolean changes(EntryValue o, EntryValue base) {
        if (base.deny()) {
            return false;
        }
        return o.deny() || (!base.explicitAuth() && o.explicitAuth() && o.authType().code() > base.authType().code());
    }

    /** {@code v} after the keys {@code covering} that cover its key: a deny, or a higher explicit auth type. */
    private static EntryValue fromCovering(Map<EntryKey, EntryValue> all, EntryValue v, List<EntryKey> covering) {
        for (EntryKey c : covering) {
            EntryValue o = all.get(c);
            if (o == null) {
                continue;
            }
            if (o.deny()) {
                return new EntryValue(true, AuthType.DISABLED, false, o.reasons());
            }
            if (!v.explicitAuth() && o.explicitAuth() && o.authType().code() > v.authType().code()) {
                Set<String> rs = new TreeSet<>(v.reasons());
                rs.addAll(o.reasons());
                v = new EntryValue(false, o.authType(), false, rs);
            }
        }
        return v;
    }
}
