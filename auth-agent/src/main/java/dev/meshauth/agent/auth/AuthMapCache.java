package dev.meshauth.agent.auth;

import dev.meshauth.agent.events.Origin;
import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthEntry;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthMap;

import java.time.Instant;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The write-through cache of the auth map (Cilium's {@code authMapCache}): what meshauth wrote, when and
 * under which bundle roots. It owns the order "kernel first, then cache", so a reader of the cache never
 * sees an entry the kernel does not have because of us. The kernel map is the truth: {@link #reconcile}
 * reads it back and returns what diverged behind our back (an entry deleted, flushed, or rewritten with
 * another expiry, by hand or by Cilium's own auth GC), adopting the kernel's state into the cache.
 */
final class AuthMapCache {
    /**
     * What meshauth holds for one key.
     *
     * @param info     what the kernel holds (as written, or as read back)
     * @param storedAt when it was written (restored or adopted entries: when first seen)
     * @param anchors  the bundle roots it was authenticated under; empty: unknown (restored or adopted)
     * @param origin   why it was last authenticated
     */
    record Stored(AuthInfo info, Instant storedAt, Set<String> anchors, Origin origin) {
        /** Its expiry. */
        Instant expiresAt() {
            return info.expiresAt();
        }
    }

    /**
     * What reading the kernel map back found.
     *
     * @param vanished keys the cache held that the kernel no longer has (now dropped from the cache)
     * @param changed  keys whose kernel expiry differs from what we wrote (the cache now holds the kernel's)
     * @param adopted  keys the kernel has that the cache did not (now cached as restored)
     */
    record Divergence(Set<AuthKey> vanished, Set<AuthKey> changed, Set<AuthKey> adopted) {
        /** True when the kernel and the cache agreed. */
        boolean none() {
            return vanished.isEmpty() && changed.isEmpty() && adopted.isEmpty();
        }
    }

    private final AuthMap map;
    private final Map<AuthKey, Stored> cache = new ConcurrentHashMap<>();
    /** The cached keys by identity; a key enters it after the cache and leaves it after the cache. */
    private final IdentityIndex index = new IdentityIndex();

    AuthMapCache(AuthMap map) {
        this.map = map;
    }

    /** Fills the cache from the kernel map (agent start); returns the entries restored. */
    int restore(Instant now) throws BpfException {
        for (AuthEntry e : map.entries()) {
            cache.put(e.key(), new Stored(e.info(), now, Set.of(), Origin.RESTORED));
            index.add(e.key());
        }
        return cache.size();
    }

    /** Writes the kernel map, then the cache. */
    void put(AuthKey key, Instant expiresAt, Set<String> anchors, Origin origin, Instant now) throws BpfException {
        AuthInfo info = AuthInfo.expiringAt(expiresAt);
        map.put(key, info);
        cache.put(key, new Stored(info, now, Set.copyOf(anchors), origin));
        index.add(key);
    }

    /** Deletes from the kernel map, then the cache. */
    void delete(AuthKey key) throws BpfException {
        map.delete(key);
        if (cache.remove(key) != null) {
            index.remove(key);
        }
    }

    /** The cached entry of {@code key}. */
    Optional<Stored> get(AuthKey key) {
        return Optional.ofNullable(cache.get(key));
    }

    /** True if the kernel map has {@code key} now (false if it cannot be read). */
    boolean inKernel(AuthKey key) {
        try {
            return map.get(key).isPresent();
        } catch (BpfException e) {
            return false;
        }
    }

    /** A snapshot of the cache. */
    Map<AuthKey, Stored> snapshot() {
        return Map.copyOf(cache);
    }

    /** Keys cached. */
    Set<AuthKey> keys() {
        return Set.copyOf(cache.keySet());
    }

    /** Cached keys with {@code identity} on either side. */
    Set<AuthKey> keysInvolving(long identity) {
        Set<AuthKey> out = new HashSet<>(index.involving(identity));
        out.removeIf(k -> !cache.containsKey(k)); // removed between the index read and now
        return out;
    }

    /** Entries cached. */
    int size() {
        return cache.size();
    }

    /** What the kernel map holds now. */
    Map<AuthKey, AuthInfo> kernel() throws BpfException {
        Map<AuthKey, AuthInfo> out = new HashMap<>();
        for (AuthEntry e : map.entries()) {
            out.put(e.key(), e.info());
        }
        return out;
    }

    /**
     * Reads the kernel map and makes the cache agree with it, returning what differed. Keys in
     * {@code busy} (a write of ours in flight) are left alone: their kernel state is about to change.
     */
    Divergence reconcile(Instant now, Set<AuthKey> busy) throws BpfException {
        Map<AuthKey, AuthInfo> kernel = kernel();
        Set<AuthKey> vanished = new HashSet<>();
        Set<AuthKey> changed = new HashSet<>();
        Set<AuthKey> adopted = new HashSet<>();
        for (Map.Entry<AuthKey, Stored> e : Set.copyOf(cache.entrySet())) {
            AuthKey k = e.getKey();
            if (busy.contains(k)) {
                continue;
            }
            AuthInfo inKernel = kernel.get(k);
            if (inKernel == null) {
                if (cache.remove(k, e.getValue())) {
                    index.remove(k);
                }
                vanished.add(k);
            } else if (!inKernel.equals(e.getValue().info())) {
                cache.replace(k, e.getValue(), new Stored(inKernel, e.getValue().storedAt(), Set.of(), e.getValue().origin()));
                changed.add(k);
            }
        }
        for (Map.Entry<AuthKey, AuthInfo> e : kernel.entrySet()) {
            if (!busy.contains(e.getKey()) && cache.putIfAbsent(e.getKey(),
                    new Stored(e.getValue(), now, Set.of(), Origin.RESTORED)) == null) {
                index.add(e.getKey());
                adopted.add(e.getKey());
            }
        }
        return new Divergence(Set.copyOf(vanished), Set.copyOf(changed), Set.copyOf(adopted));
    }

    /** The map's location, for logs. */
    String location() {
        return map.location();
    }

    /** Cached entries as a list (status). */
    List<Map.Entry<AuthKey, Stored>> entries() {
        return List.copyOf(cache.entrySet());
    }
}
