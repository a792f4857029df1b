package dev.meshauth.bpf.map;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.Errno;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.Collection;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * A {@link BpfMap} with Java keys and values: hash maps and LPM tries alike (an LPM key codec writes
 * the prefix length first, as {@code struct bpf_lpm_trie_key} requires).
 *
 * <p>Bulk operations use the batch commands and fall back to one element at a time where the kernel
 * refuses them: kernels before 5.6 or map types without batch support (EINVAL/ENOTSUPP), an update
 * with {@code NOEXIST}/{@code EXIST} (kernel 6.18 takes only {@code BPF_ANY} as batch elem_flags and
 * answers EINVAL otherwise), or ENOMEM part way (reported on some arm64 kernels). A refusal is
 * remembered per operation and logged once per map.
 *
 * @param <K> key type
 * @param <V> value type
 */
public final class TypedMap<K, V> implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(TypedMap.class);
    /** Elements per batch syscall: large enough to amortise the call, small enough to bound memory. */
    static final int BATCH_CHUNK = 4096;

    private final BpfMap map;
    private final Codec<K> keys;
    private final Codec<V> values;
    private final ThreadLocal<MemorySegment[]> scratch;
    // Bit per batch operation the kernel refused for this map; see Refused. Written rarely, read per call.
    private volatile int refused;

    /** Batch operations the kernel can refuse independently. */
    private enum Refused { LOOKUP, UPDATE_ANY, UPDATE_CONDITIONAL, DELETE }

    /**
     * Wraps {@code map}; the codecs must match its key and value sizes.
     *
     * @throws IllegalArgumentException if they do not
     */
    public TypedMap(BpfMap map, Codec<K> keys, Codec<V> values) {
        if (keys.size() != map.info().keySize() || values.size() != map.info().valueSize()) {
            throw new IllegalArgumentException(map.label() + " has key/value sizes " + map.info().keySize() + "/"
                    + map.info().valueSize() + " but the codecs encode " + keys.size() + "/" + values.size());
        }
        this.map = map;
        this.keys = keys;
        this.values = values;
        this.scratch = ThreadLocal.withInitial(() -> {
            Arena arena = Arena.ofAuto();
            return new MemorySegment[] {arena.allocate(keys.size(), 8), arena.allocate(values.size(), 8),
                    arena.allocate(keys.size(), 8)};
        });
    }

    /** The underlying map. */
    public BpfMap raw() {
        return map;
    }

    /** The value for {@code key}, if present. */
    public Optional<V> get(K key) throws BpfException {
        MemorySegment[] s = scratch.get();
        keys.encode(key, s[0], 0);
        return map.lookup(s[0], s[1]) ? Optional.of(values.decode(s[1], 0)) : Optional.empty();
    }

    /** Writes {@code key -> value}. */
    public void put(K key, V value, UpdateFlag flag) throws BpfException {
        MemorySegment[] s = scratch.get();
        keys.encode(key, s[0], 0);
        values.encode(value, s[1], 0);
        map.update(s[0], s[1], flag);
    }

    /** Removes {@code key}; false if it was absent. */
    public boolean remove(K key) throws BpfException {
        MemorySegment[] s = scratch.get();
        keys.encode(key, s[0], 0);
        return map.delete(s[0]);
    }

    /** All keys, by {@code BPF_MAP_GET_NEXT_KEY} iteration (one syscall per key). */
    public List<K> keys() throws BpfException {
        MemorySegment[] s = scratch.get();
        List<K> out = new ArrayList<>();
        MemorySegment cur = MemorySegment.NULL;
        MemorySegment next = s[0];
        MemorySegment spare = s[2];
        while (map.nextKey(cur, next)) {
            out.add(keys.decode(next, 0));
            cur = next;
            next = spare;
            spare = cur;
        }
        return out;
    }

    /** A snapshot of all entries, by batch lookup (or key iteration where batches are refused). */
    public Map<K, V> entries() throws BpfException {
        if (!isRefused(Refused.LOOKUP)) {
            try {
                return entriesBatched();
            } catch (BpfException e) {
                if (!(e.is(Errno.EINVAL) || e.is(Errno.ENOTSUPP) || e.is(Errno.EOPNOTSUPP))) {
                    throw e;
                }
                markRefused(Refused.LOOKUP, e);
            }
        }
        Map<K, V> out = new LinkedHashMap<>();
        for (K k : keys()) {
            get(k).ifPresent(v -> out.put(k, v)); // a key deleted meanwhile is simply not in the snapshot
        }
        return out;
    }

    private Map<K, V> entriesBatched() throws BpfException {
        Map<K, V> out = new LinkedHashMap<>();
        int chunk = Math.min(BATCH_CHUNK, Math.max(64, map.info().maxEntries()));
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment tokenA = arena.allocate(Math.max(8, keys.size()), 8);
            MemorySegment tokenB = arena.allocate(Math.max(8, keys.size()), 8);
            MemorySegment keyBuf = arena.allocate((long) chunk * keys.size(), 8);
            MemorySegment valBuf = arena.allocate((long) chunk * values.size(), 8);
            MemorySegment in = MemorySegment.NULL;
            MemorySegment outToken = tokenA;
            while (true) {
                BatchStep step = map.lookupBatch(in, outToken, keyBuf, valBuf, chunk);
                for (int i = 0; i < step.count(); i++) {
                    out.put(keys.decode(keyBuf, (long) i * keys.size()), values.decode(valBuf, (long) i * values.size()));
                }
                if (step.done()) {
                    return out;
                }
                in = outToken;
                outToken = outToken == tokenA ? tokenB : tokenA;
            }
        }
    }

    /**
     * Writes all {@code entries} with one flag, in batches of {@value #BATCH_CHUNK}.
     *
     * @throws BpfException on the first element the kernel refuses (for example EEXIST with NOEXIST, or
     *                      E2BIG when the map is full); elements before it are written
     */
    public void putAll(Map<K, V> entries, UpdateFlag flag) throws BpfException {
        List<Map.Entry<K, V>> list = new ArrayList<>(entries.entrySet());
        try (Arena arena = Arena.ofConfined()) {
            int chunk = Math.min(BATCH_CHUNK, Math.max(1, list.size()));
            MemorySegment keyBuf = arena.allocate((long) chunk * keys.size(), 8);
            MemorySegment valBuf = arena.allocate((long) chunk * values.size(), 8);
            for (int start = 0; start < list.size(); start += chunk) {
                int n = Math.min(chunk, list.size() - start);
                for (int i = 0; i < n; i++) {
                    Map.Entry<K, V> e = list.get(start + i);
                    keys.encode(e.getKey(), keyBuf, (long) i * keys.size());
                    values.encode(e.getValue(), valBuf, (long) i * values.size());
                }
                int done = 0;
                Refused op = flag == UpdateFlag.ANY ? Refused.UPDATE_ANY : Refused.UPDATE_CONDITIONAL;
                if (!isRefused(op)) {
                    try {
                        done = map.updateBatch(keyBuf, valBuf, n, flag);
                    } catch (BatchException e) {
                        done = e.processed();
                        if (e.batchUnsupported()) {
                            markRefused(op, e.failure());
                        } else if (!e.failure().is(Errno.ENOMEM)) {
                            throw e.failure();
                        }
                    }
                }
                for (int i = done; i < n; i++) { // fallback: one by one, stopping at the first real error
                    map.update(keyBuf.asSlice((long) i * keys.size(), keys.size()),
                            valBuf.asSlice((long) i * values.size(), values.size()), flag);
                }
            }
        }
    }

    /**
     * Removes all {@code toRemove} keys that are present.
     *
     * @return how many were present and removed
     */
    public int removeAll(Collection<K> toRemove) throws BpfException {
        List<K> list = new ArrayList<>(toRemove);
        int removed = 0;
        try (Arena arena = Arena.ofConfined()) {
            int chunk = Math.min(BATCH_CHUNK, Math.max(1, list.size()));
            MemorySegment keyBuf = arena.allocate((long) chunk * keys.size(), 8);
            for (int start = 0; start < list.size(); start += chunk) {
                int n = Math.min(chunk, list.size() - start);
                for (int i = 0; i < n; i++) {
                    keys.encode(list.get(start + i), keyBuf, (long) i * keys.size());
                }
                int pos = 0;
                while (pos < n && !isRefused(Refused.DELETE)) {
                    try {
                        removed += map.deleteBatch(keyBuf.asSlice((long) pos * keys.size()), n - pos);
                        pos = n;
                    } catch (BatchException e) {
                        removed += e.processed();
                        pos += e.processed();
                        if (e.failure().is(Errno.ENOENT)) {
                            pos++; // that key was already gone: skip it and go on
                        } else if (e.batchUnsupported()) {
                            markRefused(Refused.DELETE, e.failure());
                        } else if (e.failure().is(Errno.ENOMEM)) {
                            break;
                        } else {
                            throw e.failure();
                        }
                    }
                }
                for (int i = pos; i < n; i++) {
                    if (map.delete(keyBuf.asSlice((long) i * keys.size(), keys.size()))) {
                        removed++;
                    }
                }
            }
        }
        return removed;
    }

    /** Removes every entry; returns how many were removed. */
    public int clear() throws BpfException {
        return removeAll(entries().keySet());
    }

    /** True once the kernel refused some batch command for this map and single operations stand in. */
    public boolean usesSingleOperationFallback() {
        return refused != 0;
    }

    private boolean isRefused(Refused op) {
        return (refused & (1 << op.ordinal())) != 0;
    }

    private synchronized void markRefused(Refused op, BpfException why) {
        if (!isRefused(op)) {
            refused |= 1 << op.ordinal();
            LOG.atInfo().setMessage("batch operation refused by the kernel, using single-element operations instead")
                    .addKeyValue("map", map.label())
                    .addKeyValue("op", op)
                    .addKeyValue("reason", why.getMessage())
                    .log();
        }
    }

    @Override
    public void close() {
        map.close();
    }
}
