package dev.meshauth.agent.auth;

import dev.meshauth.bpf.auth.AuthKey;

import java.util.Collection;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Auth keys by the identities in them (local and remote), so work on one identity (an SVID rotated or
 * arrived) touches its keys only: a rotation storm over 10,000 identities with 10,000 entries is 10,000
 * lookups, not 10,000 scans of every key. Thread-safe; each identity's set changes atomically.
 */
final class IdentityIndex {
    private final Map<Long, Set<AuthKey>> byIdentity = new ConcurrentHashMap<>();

    /** An index of {@code keys}. */
    static IdentityIndex of(Collection<AuthKey> keys) {
        IdentityIndex index = new IdentityIndex();
        keys.forEach(index::add);
        return index;
    }

    void add(AuthKey k) {
        add(k.localIdentity(), k);
        add(k.remoteIdentity(), k);
    }

    void remove(AuthKey k) {
        remove(k.localIdentity(), k);
        remove(k.remoteIdentity(), k);
    }

    /** The keys with {@code identity} on either side, a copy. */
    Set<AuthKey> involving(long identity) {
        Set<AuthKey> s = byIdentity.get(identity);
        return s == null ? Set.of() : Set.copyOf(s);
    }

    private void add(long identity, AuthKey k) {
        byIdentity.compute(identity, (id, s) -> {
            Set<AuthKey> out = s == null ? ConcurrentHashMap.newKeySet() : s;
            out.add(k);
            return out;
        });
    }

    private void remove(long identity, AuthKey k) {
        byIdentity.computeIfPresent(identity, (id, s) -> {
            s.remove(k);
            return s.isEmpty() ? null : s;
        });
    }
}
