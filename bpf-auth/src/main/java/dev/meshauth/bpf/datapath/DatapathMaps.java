package dev.meshauth.bpf.datapath;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.KernelAuthMap;
import dev.meshauth.bpf.map.BpfMap;
import dev.meshauth.bpf.map.MapFlags;
import dev.meshauth.bpf.map.MapSpec;
import dev.meshauth.bpf.map.MapType;
import dev.meshauth.bpf.map.TypedMap;

import java.util.ArrayList;
import java.util.List;
import java.util.Map;

/**
 * The maps the enforcement program reads and writes, created together and closed together. The auth
 * map is the caller's (pinned, shared with the agent); the others belong to this datapath instance.
 */
final class DatapathMaps implements AutoCloseable {
    static final String IPCACHE = "ipcache";
    static final String ENDPOINTS = "endpoints";
    static final String POLICY = "policy";
    static final String AUTH = "auth";
    static final String CONFIG = "config";
    static final String SIGNAL_RATE = "signal_rl";
    static final String SIGNALS = "signals";
    static final String COUNTERS = "counters";
    static final String CONNTRACK = "conntrack";
    static final String FRAGMENTS = "fragments";

    /** config[0]: utime offset (ticks) added to {@code ktime_get_ns() >> 9}. */
    static final int CONFIG_UTIME_OFFSET = 0;
    /** config[1]: minimum ns between two auth-required records for one key. */
    static final int CONFIG_SIGNAL_INTERVAL = 1;

    final TypedMap<IpPrefix, IpcacheEntry> ipcache;
    final TypedMap<Integer, Integer> endpoints;
    final TypedMap<PolicyKey, PolicyVerdict> policy;
    final BpfMap config;
    final BpfMap signalRate;
    final BpfMap signals;
    final BpfMap counters;
    final TypedMap<byte[], byte[]> conntrack;
    final BpfMap fragments;
    final KernelAuthMap auth;
    private final List<AutoCloseable> owned = new ArrayList<>();

    DatapathMaps(KernelAuthMap auth, DatapathOptions o) throws BpfException {
        this.auth = auth;
        try {
            ipcache = own(new TypedMap<>(BpfMap.create(MapSpec.withBtf("meshauth_ipc", MapType.LPM_TRIE,
                    DatapathCodecs.IPCACHE_KEY, DatapathCodecs.IPCACHE_VALUE, o.ipcacheEntries(), MapFlags.NO_PREALLOC)),
                    DatapathCodecs.PREFIX, DatapathCodecs.IPCACHE));
            endpoints = own(new TypedMap<>(BpfMap.create(MapSpec.withBtf("meshauth_ep", MapType.HASH,
                    DatapathCodecs.ENDPOINT_KEY, DatapathCodecs.ENDPOINT_VALUE, o.endpointEntries(), MapFlags.NO_PREALLOC)),
                    dev.meshauth.bpf.map.Codecs.U32, dev.meshauth.bpf.map.Codecs.U32));
            policy = own(new TypedMap<>(BpfMap.create(MapSpec.withBtf("meshauth_pol", MapType.LPM_TRIE,
                    DatapathCodecs.POLICY_KEY, DatapathCodecs.POLICY_VALUE, o.policyEntries(), MapFlags.NO_PREALLOC)),
                    DatapathCodecs.POLICY, DatapathCodecs.VERDICT));
            config = own(BpfMap.create(MapSpec.of("meshauth_cfg", MapType.ARRAY, 4, 8, 2, 0)));
            signalRate = own(BpfMap.create(MapSpec.of("meshauth_sigrl", MapType.LRU_HASH,
                    (int) dev.meshauth.bpf.auth.AuthMapLayout.KEY.byteSize(), 8,
                    o.signalRateEntries(), 0)));
            signals = own(BpfMap.create(MapSpec.of("meshauth_sig", MapType.RINGBUF, 0, 0, o.ringBufferBytes(), 0)));
            counters = own(BpfMap.create(MapSpec.of("meshauth_cnt", MapType.PERCPU_ARRAY, 4, 8,
                    Counter.mapSize(), 0)));
            conntrack = own(new TypedMap<>(BpfMap.create(MapSpec.withBtf("meshauth_ct", MapType.LRU_HASH,
                    DatapathCodecs.CT_KEY, DatapathCodecs.CT_VALUE, o.conntrackEntries(), 0)),
                    dev.meshauth.bpf.map.Codecs.bytes((int) DatapathCodecs.CT_KEY.byteSize()),
                    dev.meshauth.bpf.map.Codecs.bytes((int) DatapathCodecs.CT_VALUE.byteSize())));
            fragments = own(BpfMap.create(MapSpec.withBtf("meshauth_frag", MapType.LRU_HASH, DatapathCodecs.FRAG_KEY,
                    DatapathCodecs.FRAG_VALUE, o.fragmentEntries(), 0)));
        } catch (BpfException | RuntimeException e) {
            close();
            throw e;
        }
    }

    private <T extends AutoCloseable> T own(T resource) {
        owned.add(resource);
        return resource;
    }

    /** The fds the program's map references resolve to. */
    Map<String, Integer> fds() {
        return Map.of(IPCACHE, ipcache.raw().fd().get(), ENDPOINTS, endpoints.raw().fd().get(),
                POLICY, policy.raw().fd().get(), AUTH, auth.typed().raw().fd().get(), CONFIG, config.fd().get(),
                SIGNAL_RATE, signalRate.fd().get(), SIGNALS, signals.fd().get(), COUNTERS, counters.fd().get(),
                CONNTRACK, conntrack.raw().fd().get(), FRAGMENTS, fragments.fd().get());
    }

    @Override
    public void close() {
        for (AutoCloseable c : owned.reversed()) {
            try {
                c.close();
            } catch (Exception e) {
                throw new IllegalStateException("closing " + c + " failed", e);
            }
        }
        owned.clear();
    }
}
