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
 * The standalone datapath: the enforcement program, its maps, its tcx links and its signal reader, as
 * one object. Program it from plain records, attach it to endpoint interfaces, read its counters,
 * subscribe to auth-required signals. Closing it detaches every link and frees every map it created;
 * nothing is pinned (the auth map is the caller's and stays).
 */
public final class Datapath implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Datapath.class);

    private final DatapathMaps maps;
    private final BpfProgram program;
    private final ClockOffset clock;
    private final List<TcxLink> links = new ArrayList<>(); // @GuardedBy("this")
    private final List<RingBufferReader> readers = new ArrayList<>(); // @GuardedBy("this")

    private Datapath(DatapathMaps maps, BpfProgram program, ClockOffset clock) {
        this.maps = maps;
        this.program = program;
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
        BpfProgram program = null;
        try {
            program = BpfProgram.load("meshauth_ing", ProgramType.SCHED_CLS, EnforcementProgram.build(options.lookupOrder()),
                    maps.fds());
            Datapath d = new Datapath(maps, program, clock);
            d.syncClock();
            d.setSignalInterval(options.signalInterval());
            return d;
        } catch (BpfException | RuntimeException e) {
            if (program != null) {
                program.close(); // loaded, not yet owned by a returned Datapath
            }
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

    /** Maps {@code prefix} to an identity and node. */
    public void putIpcache(Ipv4Prefix prefix, IpcacheEntry entry) throws BpfException {
        maps.ipcache.put(prefix, entry, UpdateFlag.ANY);
    }

    /** Forgets {@code prefix}; false if it was absent. */
    public boolean removeIpcache(Ipv4Prefix prefix) throws BpfException {
        return maps.ipcache.remove(prefix);
    }

    /**
     * Marks whether an ingress policy selects endpoints of {@code identity}: selected endpoints are
     * default-deny, unselected ones default-allow.
     */
    public void setIngressEnforced(long identity, boolean enforced) throws BpfException {
        setIngressPolicy(identity, enforced ? IngressPolicy.DEFAULT_DENY : IngressPolicy.NONE);
    }

    /** Sets how traffic into endpoints of {@code identity} is treated. */
    public void setIngressPolicy(long identity, IngressPolicy policy) throws BpfException {
        if (policy == IngressPolicy.NONE) {
            maps.endpoints.remove((int) identity);
        } else {
            maps.endpoints.put((int) identity, policy.flags(), UpdateFlag.ANY);
        }
    }

    /** Every identity with an ingress policy, and its kind. */
    public Map<Long, IngressPolicy> ingressPolicies() throws BpfException {
        Map<Long, IngressPolicy> out = new java.util.HashMap<>();
        for (var e : maps.endpoints.entries().entrySet()) {
            out.put(Integer.toUnsignedLong(e.getKey()), IngressPolicy.fromFlags(e.getValue()));
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

    /** All ipcache entries. */
    public Map<Ipv4Prefix, IpcacheEntry> ipcache() throws BpfException {
        return maps.ipcache.entries();
    }

    /** Identities whose ingress is default-deny. */
    public java.util.Set<Long> ingressEnforced() throws BpfException {
        java.util.Set<Long> out = new java.util.HashSet<>();
        ingressPolicies().forEach((id, p) -> {
            if (p == IngressPolicy.DEFAULT_DENY) {
                out.add(id);
            }
        });
        return out;
    }

    /** All policy entries. */
    public Map<PolicyKey, PolicyVerdict> policy() throws BpfException {
        return maps.policy.entries();
    }

    /**
     * Attaches the program at ingress of {@code ifname} (the endpoint's interface, seen from inside its
     * namespace) in {@code netns}, or the current namespace if empty.
     */
    public synchronized TcxLink attachIngress(String ifname, Optional<Path> netns) throws BpfException {
        return attach(ifname, netns, TcxDirection.INGRESS);
    }

    /**
     * Attaches the program where traffic enters an endpoint: at ingress of its own interface inside its
     * namespace, or, given only the host-side interface of its veth pair, at that interface's egress.
     */
    public synchronized TcxLink attachToEndpoint(String ifname, Optional<Path> endpointNetns) throws BpfException {
        return endpointNetns.isPresent() ? attach(ifname, endpointNetns, TcxDirection.INGRESS)
                : attach(ifname, Optional.empty(), TcxDirection.EGRESS);
    }

    private TcxLink attach(String ifname, Optional<Path> netns, TcxDirection dir) throws BpfException {
        TcxLink link = TcxLink.attach(program, ifname, netns, dir);
        links.add(link);
        LOG.atInfo().setMessage("datapath attached")
                .addKeyValue("link", link.description())
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

    /**
     * Delivers every auth-required record to {@code listener} on a dedicated thread until closed.
     *
     * @throws BpfException if the ring buffer cannot be mapped
     */
    public synchronized AutoCloseable subscribe(Consumer<AuthSignal> listener) throws BpfException {
        RingBufferReader reader = RingBufferReader.start(maps.signals,
                record -> listener.accept(AuthSignal.parse(record)), "meshauth-auth-signals");
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

    /** The loaded program's kernel id. */
    public int programId() throws BpfException {
        return program.id();
    }

    /** Runs the program on one frame ({@code BPF_PROG_TEST_RUN}): for tests and benchmarks. */
    public TestRunResult testRun(byte[] frame, int repeat) throws BpfException {
        return program.testRun(frame, repeat);
    }

    /** Detaches all links, stops readers, frees the program and the datapath's own maps. */
    @Override
    public synchronized void close() {
        readers.forEach(RingBufferReader::close);
        readers.clear();
        links.forEach(TcxLink::close);
        links.clear();
        program.close();
        maps.close();
    }
}
