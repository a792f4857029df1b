package dev.meshauth.bpf.auth;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.Errno;
import dev.meshauth.bpf.map.UpdateFlag;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The auth map as an in-process table, for machines without BPF (the demo's {@code --datapath memory}).
 * Chosen explicitly by a flag; never a silent fallback when the kernel refuses.
 *
 * <p>Semantics match the kernel hash map, including its errors: NOEXIST on a present key is EEXIST,
 * EXIST on an absent key is ENOENT, an insert into a full map is E2BIG.
 */
public final class InMemoryAuthMap implements AuthMap {
    private final Map<AuthKey, AuthInfo> entries = new ConcurrentHashMap<>();
    private final int maxEntries;
    private final Object writeLock = new Object(); // @GuardedBy: serialises capacity checks with inserts

    /** An empty table holding at most {@code maxEntries} entries. */
    public InMemoryAuthMap(int maxEntries) {
        if (maxEntries <= 0) {
            throw new IllegalArgumentException("maxEntries must be positive, got " + maxEntries);
        }
        this.maxEntries = maxEntries;
    }

    @Override
    public Optional<AuthInfo> get(AuthKey key) {
        return Optional.ofNullable(entries.get(key));
    }

    @Override
    public void put(AuthKey key, AuthInfo info, UpdateFlag flag) throws BpfException {
        synchronized (writeLock) {
            boolean present = entries.containsKey(key);
            if (flag == UpdateFlag.NOEXIST && present) {
                throw BpfException.syscall("BPF_MAP_UPDATE_ELEM", location(), Errno.EEXIST.number());
            }
            if (flag == UpdateFlag.EXIST && !present) {
                throw BpfException.syscall("BPF_MAP_UPDATE_ELEM", location(), Errno.ENOENT.number());
            }
            if (!present && entries.size() >= maxEntries) {
                throw BpfException.syscall("BPF_MAP_UPDATE_ELEM", location(), Errno.E2BIG.number());
            }
            entries.put(key, info);
        }
    }

    @Override
    public boolean delete(AuthKey key) {
        return entries.remove(key) != null;
    }

    @Override
    public List<AuthEntry> entries() {
        List<AuthEntry> out = new ArrayList<>(entries.size());
        entries.forEach((k, v) -> out.add(new AuthEntry(k, v)));
        return out;
    }

    @Override
    public int flush() {
        synchronized (writeLock) {
            int n = entries.size();
            entries.clear();
            return n;
        }
    }

    @Override
    public int maxEntries() {
        return maxEntries;
    }

    @Override
    public String location() {
        return "memory";
    }

    @Override
    public void close() {
        // nothing to release: the table lives as long as this object
    }
}
