package dev.meshauth.bpf.auth;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.map.UpdateFlag;

import java.util.List;
import java.util.Optional;

/**
 * The table of authenticated identity pairs the datapath enforces: Cilium's {@code cilium_auth_map}.
 *
 * <p>Two backends with identical semantics, chosen explicitly and never as a silent fallback: the
 * pinned kernel map ({@link KernelAuthMap}), and an in-process table ({@link InMemoryAuthMap}) for
 * machines without BPF. Both report failures as {@link BpfException} with the errno the kernel would
 * give: EEXIST for NOEXIST on a present key, ENOENT for EXIST on an absent one, E2BIG when full.
 */
public sealed interface AuthMap extends AutoCloseable permits KernelAuthMap, InMemoryAuthMap {

    /** The entry for {@code key}, if present (expired or not: expiry is the reader's judgement). */
    Optional<AuthInfo> get(AuthKey key) throws BpfException;

    /** Writes an entry with the given create/replace semantics. */
    void put(AuthKey key, AuthInfo info, UpdateFlag flag) throws BpfException;

    /** Creates or replaces an entry. */
    default void put(AuthKey key, AuthInfo info) throws BpfException {
        put(key, info, UpdateFlag.ANY);
    }

    /** Removes an entry; false if it was absent. */
    boolean delete(AuthKey key) throws BpfException;

    /** A snapshot of all entries. */
    List<AuthEntry> entries() throws BpfException;

    /** Removes every entry; returns how many were removed. */
    int flush() throws BpfException;

    /** Capacity. */
    int maxEntries();

    /** Where the map lives, for status output: its pin path, or "memory". */
    String location();

    /** Releases the handle; a pinned kernel map and its entries stay. */
    @Override
    void close();
}
