package dev.meshauth.bpf.auth;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.fs.BpfFs;
import dev.meshauth.bpf.fs.PinLock;
import dev.meshauth.bpf.map.BpfMap;
import dev.meshauth.bpf.map.TypedMap;
import dev.meshauth.bpf.map.UpdateFlag;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.Optional;

/**
 * The auth map as a pinned kernel hash map with Cilium's exact layout, readable by Cilium's datapath,
 * {@code cilium-dbg bpf auth list}, bpftool, and our own datapath.
 *
 * <p>Entries live in the kernel, so they survive the agent: a restarted agent opens the same map and
 * sees what it wrote before.
 */
public final class KernelAuthMap implements AuthMap {
    private final TypedMap<AuthKey, AuthInfo> map;
    private final Path pinPath;
    private final Optional<PinLock> lock;

    private KernelAuthMap(BpfMap map, Path pinPath, Optional<PinLock> lock) {
        this.map = new TypedMap<>(map, AuthMapLayout.KEY_CODEC, AuthMapLayout.VALUE_CODEC);
        this.pinPath = pinPath;
        this.lock = lock;
    }

    /**
     * Opens the map pinned at {@code pinPath}, or creates and pins it with {@code maxEntries} entries.
     * If the path is under {@code /sys/fs/bpf} and no bpffs is mounted there, mounts one, as the agent
     * must on a host where nothing else did.
     *
     * @throws BpfException if the pinned map has another layout, the path is not on bpffs, or the kernel
     *                      refuses (EPERM without CAP_BPF)
     */
    public static KernelAuthMap openOrCreate(Path pinPath, int maxEntries) throws BpfException {
        Path abs = pinPath.toAbsolutePath();
        if (abs.startsWith(BpfFs.DEFAULT_MOUNT)) {
            BpfFs.ensureMounted(BpfFs.DEFAULT_MOUNT);
        }
        return new KernelAuthMap(BpfMap.createOrOpenPinned(AuthMapLayout.spec(maxEntries), abs), abs, Optional.empty());
    }

    /**
     * As {@link #openOrCreate}, for the one agent that owns the map on this node: first takes its
     * {@link PinLock}, so a second agent pointed at the same map fails here, before it reads or writes
     * anything; the lock goes with {@link #close()} (or the process).
     *
     * @throws BpfException as {@link #openOrCreate}, or if another agent holds the map
     */
    public static KernelAuthMap openOrCreateExclusive(Path pinPath, int maxEntries) throws BpfException {
        Path abs = pinPath.toAbsolutePath();
        if (abs.startsWith(BpfFs.DEFAULT_MOUNT)) {
            BpfFs.ensureMounted(BpfFs.DEFAULT_MOUNT);
        }
        BpfFs.preparePinDirectory(abs);
        PinLock lock = PinLock.acquire(abs);
        try {
            return new KernelAuthMap(BpfMap.createOrOpenPinned(AuthMapLayout.spec(maxEntries), abs), abs, Optional.of(lock));
        } catch (BpfException | RuntimeException e) {
            lock.close();
            throw e;
        }
    }

    /**
     * Opens an existing pinned auth map, written by us or by any program with Cilium's layout; never
     * creates one.
     *
     * @param readOnly open with {@code BPF_F_RDONLY} (listing needs no write access)
     * @throws BpfException if nothing is pinned there or the map has another layout
     */
    public static KernelAuthMap openExisting(Path pinPath, boolean readOnly) throws BpfException {
        Path abs = pinPath.toAbsolutePath();
        return new KernelAuthMap(BpfMap.openPinned(abs, AuthMapLayout.spec(AuthMapLayout.DEFAULT_MAX_ENTRIES),
                readOnly), abs, Optional.empty());
    }

    @Override
    public Optional<AuthInfo> get(AuthKey key) throws BpfException {
        return map.get(key);
    }

    @Override
    public void put(AuthKey key, AuthInfo info, UpdateFlag flag) throws BpfException {
        map.put(key, info, flag);
    }

    /** Writes many entries with batch updates. */
    public void putAll(Map<AuthKey, AuthInfo> entries, UpdateFlag flag) throws BpfException {
        map.putAll(entries, flag);
    }

    @Override
    public boolean delete(AuthKey key) throws BpfException {
        return map.remove(key);
    }

    @Override
    public List<AuthEntry> entries() throws BpfException {
        List<AuthEntry> out = new ArrayList<>();
        map.entries().forEach((k, v) -> out.add(new AuthEntry(k, v)));
        return out;
    }

    @Override
    public int flush() throws BpfException {
        return map.clear();
    }

    @Override
    public int maxEntries() {
        return map.raw().info().maxEntries();
    }

    @Override
    public String location() {
        return pinPath.toString();
    }

    /** The typed map underneath, for the datapath and benchmarks. */
    public TypedMap<AuthKey, AuthInfo> typed() {
        return map;
    }

    @Override
    public void close() {
        map.close();
        lock.ifPresent(PinLock::close);
    }
}
