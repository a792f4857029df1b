package dev.meshauth.bpf.datapath;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.KernelAuthMap;
import dev.meshauth.bpf.link.TcxDirection;
import dev.meshauth.bpf.link.TcxLink;
import dev.meshauth.bpf.map.UpdateFlag;
import dev.meshauth.bpf.prog.BpfProgram;
import dev.meshauth.bpf.prog.ProgramType;
import dev.meshauth.bpf.prog.TestRunResult;
import dev.meshauth.bpf.ringbuf.RingBufferReader;
import dev.meshauth.bpf.sys.PossibleCpus;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.EnumMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.function.Consumer;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The standalone datapath: the enforcement programs (one per {@link Role}), their maps, their tcx links
 * and the signal reader, as one object. Program it from plain records, attach it to endpoint interfaces
 * (both roles each), read its counters, subscribe to auth-required signals. Closing it detaches every
 * link and frees every map it created; nothing is pinned (the auth map is the caller's and stays).
 */
public final class Datapath implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Datapath.class);

    private final DatapathMaps maps;
    private final Map<Role, BpfProgram> programs;
    private final ClockOffset clock;
    private final List<TcxLink> links = new ArrayList<>(); // @GuardedBy("this")
    private final List<RingBufferReader> readers = new ArrayList<>(); // @GuardedBy("this")

    private Datapath(DatapathMaps maps, Map<Role, BpfProgram> programs, ClockOffset clock) {
        this.maps = maps;
        this.programs = programs;
        this.clock = clock;
    }

    /**
     * Creates the maps, loads the program against {@code authMap}, and writes the clock offset and signal
     * interval.
     *
     * @throws BpfException if a map or the program cannot be created (the verifier log is in the message)
     */
    public static Datapath create(KernelAuthMap authMap, DatapathOptions options, ClockOffset clock)
            throws BpfException {
        DatapathMaps maps = new DatapathMaps(authMap, options);
        Map<Role, BpfProgram> programs = new EnumMap<>(Role.class);
        try {
            for (Role role : Role.values()) {
                programs.put(role, BpfProgram.load(role.programName(), ProgramType.SCHED_CLS,
                        EnforcementProgram.build(role, options.lookupOrder(), options.timeouts(), options.holdSyns()), maps.fds()));
            }
            Datapath d = new Datapath(maps, Map.copyOf(programs), clock);
            d.syncClock();
            d.setSignalInterval(options.signalInterval());
            return d;
        } catch (BpfException | RuntimeException e) {
            programs.values().forEach(BpfProgram::close); // loaded, not yet owned by a returned Datapath
            maps.close();
            throw e;
        }
    }

    /** Writes the utime offset; call it periodically (Cilium resyncs every minute) to follow clock steps. */
    public void syncClock() throws BpfException {
        writeConfig(DatapathMaps.CONFIG_UTIME_OFFSET, clock.compute());
    }

    /** Sets the minimum interval between two auth-required records for one key. */
    public void setSignalInterval(Duration interval) throws BpfException {
        writeConfig(DatapathMaps.CONFIG_SIGNAL_INTERVAL, interval.toNanos());
    }

    private void writeConfig(int index, long value) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = arena.allocate(JAVA_INT);
            MemorySegment v = arena.allocate(JAVA_LONG);
            k.set(JAVA_INT, 0, index);
            v.set(JAVA_LONG, 0, value);
            maps.config.update(k, v, UpdateFlag.ANY);
        }
    }

    /** Maps {@code prefix} (IPv4 or IPv6) to an identity and node. */
    public void putIpcache(IpPrefix prefix, IpcacheEntry entry) throws BpfException {
        maps.ipcache.put(prefix, entry, UpdateFlag.ANY);
    }

    /** Forgets {@code prefix}; false if it was absent. */
    public boolean removeIpcache(IpPrefix prefix) throws BpfException {
        return maps.ipcache.remove(prefix);
    }

    /** All ipcache entries. */
    public Map<IpPrefix, IpcacheEntry> ipcache() throws BpfException {
        return maps.ipcache.entries();
    }

    /**
     * Sets how the endpoints of {@code identity} are judged, both ways: an identity with no policy either
     * way ({@link EndpointPolicy#NONE}) passes untracked.
     */
    public void setEndpointPolicy(long identity, EndpointPolicy policy) throws BpfException {
        if (policy.equals(EndpointPolicy.NONE)) {
            maps.endpoints.remove((int) identity);
        } else {
            maps.endpoints.put((int) identity, policy.flags(), UpdateFlag.ANY);
        }
    }

    /** Every identity with a policy, and its kind. */
    public Map<Long, EndpointPolicy> endpointPolicies() throws BpfException {
        Map<Long, EndpointPolicy> out = new java.util.HashMap<>();
        for (var e : maps.endpoints.entries().entrySet()) {
            out.put(Integer.toUnsignedLong(e.getKey()), EndpointPolicy.fromFlags(e.getValue()));
        }
        return out;
    }

    /** Writes one policy entry. */
    public void putPolicy(PolicyKey key, PolicyVerdict verdict) throws BpfException {
        maps.policy.put(key, verdict, UpdateFlag.ANY);
    }

    /** Removes one policy entry; false if it was absent. */
    public boolean removePolicy(PolicyKey key) throws BpfException {
        return maps.policy.remove(key);
    }

    /** All policy entries. */
    public Map<PolicyKey, PolicyVerdict> policy() throws BpfException {
        return maps.policy.entries();
    }

    /** The number of tracked connections (expired ones included until the LRU evicts them). */
    public int conntrackEntries() throws BpfException {
        return maps.conntrack.keys().size();
    }

    /**
     * Forgets every tracked connection: from the next packet on, each connection is judged by policy
     * again (tests, and {@code meshauth bpf ct flush} after a policy tightening).
     *
     * @return how many entries were removed
     */
    public int flushConntrack() throws BpfException {
        return maps.conntrack.removeAll(maps.conntrack.keys());
    }

    /**
     * Attaches both programs to a local endpoint: given its own interface inside {@code endpointNetns}, at
     * that interface's ingress (TO_ENDPOINT) and egress (FROM_ENDPOINT); given only the host-side end of its
     * veth pair, the other way round (what the host sends out is what the pod receives).
     */
    public synchronized EndpointLinks attachToEndpoint(String ifname, Optional<Path> endpointNetns) throws BpfException {
        boolean inside = endpointNetns.isPresent();
        TcxLink to = attach(Role.TO_ENDPOINT, ifname, endpointNetns, inside ? TcxDirection.INGRESS : TcxDirection.EGRESS);
        try {
            TcxLink from = attach(Role.FROM_ENDPOINT, ifname, endpointNetns,
                    inside ? TcxDirection.EGRESS : TcxDirection.INGRESS);
            return new EndpointLinks(to, from);
        } catch (BpfException | RuntimeException e) {
            detach(to);
            throw e;
        }
    }

    /** Attaches one role's program at {@code dir} of {@code ifname} in {@code netns} (or the current namespace). */
    public synchronized TcxLink attach(Role role, String ifname, Optional<Path> netns, TcxDirection dir) throws BpfException {
        TcxLink link = TcxLink.attach(programs.get(role), ifname, netns, dir);
        links.add(link);
        LOG.atInfo().setMessage("datapath attached")
                .addKeyValue("link", link.description())
                .addKeyValue("role", role)
                .log();
        return link;
    }

    /** Detaches one link this datapath made. */
    public synchronized void detach(TcxLink link) {
        if (links.remove(link)) {
            link.close();
            LOG.atInfo().setMessage("datapath detached")
                    .addKeyValue("link", link.description())
                    .log();
        }
    }

    /** Detaches both links of an endpoint. */
    public synchronized void detach(EndpointLinks endpoint) {
        detach(endpoint.toEndpoint());
        detach(endpoint.fromEndpoint());
    }

    /**
     * Delivers every auth-required record to {@code listener} on a dedicated thread until closed; held SYNs
     * are not wanted by this subscriber and are dropped (see {@link #subscribe(Consumer, Consumer)}).
     *
     * @throws BpfException if the ring buffer cannot be mapped
     */
    public AutoCloseable subscribe(Consumer<AuthSignal> listener) throws BpfException {
        return subscribe(listener, syn -> { });
    }

    /**
     * Delivers every record, in the order the programs wrote them, on one dedicated thread until closed:
     * auth-required records to {@code signals}, held SYNs to {@code syns}.
     *
     * @throws BpfException if the ring buffer cannot be mapped
     */
    public synchronized AutoCloseable subscribe(Consumer<AuthSignal> signals, Consumer<HeldSyn> syns) throws BpfException {
        RingBufferReader reader = RingBufferReader.start(maps.signals, record -> {
            switch (DatapathSignal.parse(record)) {
                case AuthSignal s -> signals.accept(s);
                case HeldSyn h -> syns.accept(h);
            }
        }, "meshauth-auth-signals");
        readers.add(reader);
        return () -> {
            synchronized (this) {
                if (readers.remove(reader)) {
                    reader.close();
                }
            }
        };
    }

    /** Sums of the per-CPU counters. */
    public Map<Counter, Long> counters() throws BpfException {
        int cpus = PossibleCpus.count();
        Map<Counter, Long> out = new EnumMap<>(Counter.class);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment k = arena.allocate(JAVA_INT);
            MemorySegment v = arena.allocate(8L * cpus, 8);
            for (Counter c : Counter.values()) {
                k.set(JAVA_INT, 0, c.index());
                long sum = 0;
                if (maps.counters.lookup(k, v)) {
                    for (int cpu = 0; cpu < cpus; cpu++) {
                        sum += v.getAtIndex(JAVA_LONG, cpu);
                    }
                }
                out.put(c, sum);
            }
        }
        return out;
    }

    /** The kernel id of one role's program. */
    public int programId(Role role) throws BpfException {
        return programs.get(role).id();
    }

    /** Runs one role's program on one frame ({@code BPF_PROG_TEST_RUN}): for tests and benchmarks. */
    public TestRunResult testRun(Role role, byte[] frame, int repeat) throws BpfException {
        return programs.get(role).testRun(frame, repeat);
    }

    /** Detaches all links, stops readers, frees the program and the datapath's own maps. */
    @Override
    public synchronized void close() {
        readers.forEach(RingBufferReader::close);
        readers.clear();
        links.forEach(TcxLink::close);
        links.clear();
        programs.values().forEach(BpfProgram::close);
        maps.close();
    }
}
