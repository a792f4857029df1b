package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManager;
import dev.meshauth.agent.auth.GcScope;
import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.events.DecisionLog;
import dev.meshauth.agent.events.EventLog;
import dev.meshauth.agent.metrics.AgentMetrics;
import dev.meshauth.agent.metrics.MetricsServer;
import dev.meshauth.agent.status.StatusServer;
import dev.meshauth.agent.handshake.DelegatedIdentityStore;
import dev.meshauth.agent.handshake.MutualAuthClient;
import dev.meshauth.agent.handshake.MutualAuthServer;
import dev.meshauth.agent.node.source.ClusterSnapshot;
import dev.meshauth.agent.node.source.ClusterSource;
import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthMap;
import dev.meshauth.bpf.auth.AuthMapLayout;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.auth.InMemoryAuthMap;
import dev.meshauth.bpf.auth.KernelAuthMap;
import dev.meshauth.bpf.datapath.ClockOffset;
import dev.meshauth.bpf.datapath.Datapath;
import dev.meshauth.bpf.datapath.DatapathOptions;
import dev.meshauth.policy.PolicyException;
import dev.meshauth.policy.endpoint.NodeInfo;
import dev.meshauth.policy.eval.AuthRequirement;
import dev.meshauth.policy.eval.PolicyEngine;
import dev.meshauth.spire.delegated.DelegatedIdentityClient;
import dev.meshauth.spire.delegated.DelegatedIdentityOptions;
import dev.meshauth.spire.delegated.IdentityEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.TimeUnit;
import java.util.random.RandomGenerator;

/**
 * The node agent: nodes, endpoints, identities and policies from a {@link ClusterSource} (files or
 * Kubernetes; a change applies at once, one that cannot be used is reported and the last good state kept),
 * workload SVIDs from the SPIRE agent's Delegated Identity API, mutual TLS with the other nodes' agents,
 * and the auth map filled ahead of traffic with the pairs the policies require on this node.
 */
public final class Agent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

    private final AgentConfig config;
    private final ClusterSource source;
    private final EventLog events = new EventLog(1024);
    private final AuthMap authMap;
    private final DelegatedIdentityClient identities;
    private final MutualAuthServer server;
    private final MutualAuthClient client;
    private final AuthManager manager;
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("meshauth-agent").factory());
    private volatile State state;
    private volatile boolean running; // until then, views are only recorded (the constructor applies the latest)
    private final SpireLink spire = new SpireLink();
    private final InstantSource clock;
    private final Instant startedAt;
    private volatile InetSocketAddress metricsAddress;
    private final List<AutoCloseable> servers = new ArrayList<>(); // status API, metrics: closed first
    private final Optional<Datapath> datapath;
    private final Optional<CiliumNodeIds> ciliumIds;
    private final EndpointAttachments attachments = new EndpointAttachments();

    /**
     * What this node needs, derived from one cluster view ({@code cluster}: with Cilium's node ids when
     * feeding Cilium; {@code raw}: as the source gave it; {@code unkeyed}: nodes left out for lack of an id).
     */
    record State(ClusterSnapshot cluster, PolicyEngine engine, Set<AuthKey> required, Set<Long> localIdentities,
            NodeInfo self, ClusterSnapshot raw, List<String> unkeyed) {
    }

    private Agent(AgentConfig config, InstantSource clock) throws BpfException, IOException, PolicyException,
            InterruptedException {
        this.config = config;
        this.clock = clock;
        this.startedAt = clock.instant();
        this.source = config.source().open();
        boolean ok = false;
        AuthMap map = null;
        CiliumNodeIds ids = null;
        try {
            ids = config.ciliumNodeMap().isPresent() ? CiliumNodeIds.open(config.ciliumNodeMap().get()) : null;
            this.ciliumIds = Optional.ofNullable(ids);
            State first = derive(source.start(this::apply));
            synchronized (this) {
                if (state == null) { // else a newer view arrived while starting
                    state = first;
                }
            }
            map = config.authMap().isPresent()
                    ? KernelAuthMap.openOrCreate(config.authMap().get(), AuthMapLayout.DEFAULT_MAX_ENTRIES)
                    : new InMemoryAuthMap(AuthMapLayout.DEFAULT_MAX_ENTRIES);
            this.authMap = map;
            AuthManager[] managerRef = new AuthManager[1];
            this.identities = DelegatedIdentityClient.start(
                    DelegatedIdentityOptions.defaults(config.adminSocket(), config.trustDomain()), clock,
                    e -> onIdentityEvent(e, managerRef[0], clock));
            DelegatedIdentityStore store = new DelegatedIdentityStore(identities, config.trustDomain(),
                    id -> state.localIdentities().contains(id));
            this.server = MutualAuthServer.start(new MutualAuthServer.Options(state.self().internalIp(), config.port(),
                    Duration.ofSeconds(5), 256), store, clock);
            this.client = new MutualAuthClient(new MutualAuthClient.Options(config.connectTimeout(), Duration.ofSeconds(2), 64),
                    store, clock);
            this.manager = new AuthManager(authMap, client::authenticate, this::agentAddress, clock, config.manager(),
                    RandomGenerator.getDefault(), events);
            managerRef[0] = manager;
            events.subscribe(new DecisionLog(this::nodeName));
            serveStatusAndMetrics(); // before the first handshake, so metrics count it
            this.datapath = config.standalone()
                    ? Optional.of(Datapath.create((KernelAuthMap) authMap, DatapathOptions.DEFAULTS, new ClockOffset()))
                    : Optional.empty();
            State initial = state;
            if (datapath.isPresent()) {
                datapath.get().subscribe(sig -> {
                    events.accept(new AuthEvent.AuthRequiredDrop(clock.instant(), sig.key()));
                    manager.request(sig.key(), AuthManager.Origin.SIGNAL);
                });
                program(initial);
                loop.scheduleWithFixedDelay(this::syncClock, 60, 60, TimeUnit.SECONDS);
            }
            manager.setRequired(initial.required());
            running = true;
            if (state != initial) {
                apply(state.raw()); // a view that arrived while starting
            }
            loop.scheduleWithFixedDelay(this::gc, config.gcInterval().toMillis(), config.gcInterval().toMillis(),
                    TimeUnit.MILLISECONDS);
            if (ciliumIds.isPresent()) {
                loop.scheduleWithFixedDelay(this::renumberIfCiliumChanged, 5, 5, TimeUnit.SECONDS);
            }
            ok = true;
        } finally {
            if (!ok) {
                closeServers();
                source.close();
                if (ids != null) {
                    ids.close();
                }
                if (map != null) {
                    map.close();
                }
            }
        }
        LOG.info("agent up: node={} source=\"{}\" datapath={} listener={}:{} auth_map={} required_pairs={}", config.nodeName(),
                source.describe(), config.datapathMode(), state.self().internalIp(), server.port(), authMap.location(),
                state.required().size());
    }

    /**
     * Starts the agent.
     *
     * @throws PolicyException if the endpoints or policy files are invalid (nothing starts)
     * @throws BpfException    if the auth map cannot be opened or created
     * @throws IOException     if a source cannot be read or does not sync
     */
    public static Agent start(AgentConfig config, InstantSource clock) throws BpfException, IOException, PolicyException,
            InterruptedException {
        return new Agent(config, clock);
    }

    private void serveStatusAndMetrics() throws IOException {
        if (config.statusSocket().isPresent()) {
            servers.add(StatusServer.start(config.statusSocket().get(), new AgentStatusApi(this)));
        }
        if (config.metrics().isPresent()) {
            AgentMetrics metrics = new AgentMetrics(new AgentMetrics.Sources(manager::stats, authMap::maxEntries,
                    this::svidExpirations, identities::reconnects, spire::bundleChanges));
            events.subscribe(metrics);
            MetricsServer m = MetricsServer.start(config.metrics().get(), metrics.registry(), this::notReady);
            metricsAddress = m.address();
            servers.add(m);
        }
    }

    private Map<Long, Instant> svidExpirations() {
        Map<Long, Instant> out = new HashMap<>();
        identities.svids().forEach((id, s) -> out.put(id, s.notAfter()));
        return out;
    }

    /** What keeps this agent from being ready; empty when ready (SVIDs synced, map open, listener up). */
    List<String> notReady() {
        List<String> out = new ArrayList<>();
        if (!spire.svidsSynced()) {
            out.add("SVIDs not synced from the SPIRE agent at " + config.adminSocket()
                    + (spire.lastError() == null ? "" : " (" + spire.lastError() + ")"));
        }
        return out;
    }

    private void closeServers() {
        for (AutoCloseable c : servers.reversed()) {
            try {
                c.close();
            } catch (Exception e) {
                LOG.atWarn().addKeyValue("error", e.toString()).log("closing a server failed");
            }
        }
        servers.clear();
    }

    private void onIdentityEvent(IdentityEvent e, AuthManager m, InstantSource clock) {
        switch (e) {
            case IdentityEvent.StreamUp up -> {
                spire.streamUp(up.stream());
                return;
            }
            case IdentityEvent.StreamDown down -> {
                spire.streamDown(down.stream(), down.reason());
                return;
            }
            case IdentityEvent.BundleChanged b -> {
                Optional<Set<String>> rootLost = spire.bundleReceived(b.roots());
                int deleted = m != null && rootLost.isPresent() ? m.bundleChanged(rootLost.get()) : 0;
                if (m != null) {
                    m.setRequired(state.required());
                }
                LOG.info("trust bundle received: trust_domain={} roots={} entries_deleted={}", b.trustDomain(),
                        b.roots().size(), deleted);
                return;
            }
            default -> { }
        }
        if (m == null) {
            return;
        }
        switch (e) {
            case IdentityEvent.SvidRotated r -> {
                events.accept(new AuthEvent.SvidRotated(clock.instant(), r.identity(), r.svid().serial(), r.svid().notAfter()));
                m.svidRotated(r.identity());
            }
            case IdentityEvent.SvidRemoved r -> m.svidRemoved(r.identity());
            case IdentityEvent.SvidAdded a -> {
                m.svidAdded(a.identity());
                m.setRequired(state.required());
            }
            default -> { }
        }
    }

    /** Cilium gives a node its id some time after it appears: re-derive when an id came or changed. */
    private void renumberIfCiliumChanged() {
        try {
            State s = state;
            CiliumNodeIds.Translation t = ciliumIds.orElseThrow().translate(s.raw(), config.nodeName());
            if (!t.cluster().nodes().equals(s.cluster().nodes())) {
                apply(s.raw());
            }
        } catch (BpfException | RuntimeException e) {
            LOG.atError().addKeyValue("error", e.getMessage()).log("reading Cilium's node map failed");
        }
    }

    /** What this node needs from {@code raw}. */
    private State derive(ClusterSnapshot raw) throws PolicyException {
        ClusterSnapshot c = raw;
        List<String> unkeyed = List.of();
        if (ciliumIds.isPresent()) {
            try {
                CiliumNodeIds.Translation t = ciliumIds.get().translate(raw, config.nodeName());
                c = t.cluster();
                unkeyed = t.missing();
                if (!unkeyed.isEmpty()) {
                    LOG.atWarn().addKeyValue("nodes", unkeyed).addKeyValue("node_map", ciliumIds.get().location())
                            .log("nodes without an id in Cilium's node map yet: their pairs wait");
                }
            } catch (BpfException e) {
                throw new IllegalStateException("reading Cilium's node map failed: " + e.getMessage(), e);
            }
        }
        List<NodeInfo> known = c.nodes();
        NodeInfo self = known.stream().filter(n -> n.name().equals(config.nodeName())).findFirst()
                .orElseThrow(() -> new PolicyException(List.of(new PolicyException.Problem(source.describe(), 0, 0, "nodes",
                        "this agent's node '" + config.nodeName() + "' (--node-name) is not among the nodes "
                                + known.stream().map(NodeInfo::name).sorted().toList()))));
        PolicyEngine engine = PolicyEngine.evaluate(c.policies(), c.endpoints());
        Set<AuthKey> required = new HashSet<>();
        for (AuthRequirement r : engine.requiredAuth(c.endpoints(), c.nodes())) {
            if (r.node().equals(self.name())) {
                required.add(new AuthKey(r.local(), r.remote(), r.remoteNodeId(), new AuthType(r.authType().code())));
            }
        }
        Set<Long> local = new HashSet<>();
        c.endpoints().stream().filter(e -> e.node().equals(self.name())).forEach(e -> local.add(e.identity()));
        return new State(c, engine, Set.copyOf(required), Set.copyOf(local), self, raw, unkeyed);
    }

    /** A new cluster view: re-derive, re-program, authenticate new pairs, collect what is no longer needed. */
    private void apply(ClusterSnapshot c) {
        try {
            State next = derive(c);
            synchronized (this) {
                state = next;
            }
            if (!running) {
                return;
            }
            program(next);
            manager.setRequired(next.required());
            gc();
            LOG.info("cluster view applied: nodes={} endpoints={} policies={} required_pairs={}", c.nodes().size(),
                    c.endpoints().size(), c.policies().size(), next.required().size());
        } catch (PolicyException e) {
            LOG.error("cluster view refused, the last good state stays: problems=\"{}\"", e.getMessage().replace('\n', ';'));
        } catch (BpfException | RuntimeException e) {
            LOG.error("applying the cluster view failed, the last good state stays: error=\"{}\"", e.toString());
        }
    }

    /** Programs the standalone datapath's maps and attaches it to this node's endpoints. */
    private synchronized void program(State s) throws BpfException {
        if (datapath.isEmpty()) {
            return;
        }
        Datapath dp = datapath.get();
        DatapathProgrammer.apply(dp, s.cluster().nodes(), s.cluster().endpoints(), s.engine(), s.self(), s.localIdentities());
        attachments.sync(dp, s.cluster().endpoints(), s.self().name());
    }

    private void syncClock() {
        try {
            datapath.ifPresent(dp -> {
                try {
                    dp.syncClock();
                } catch (BpfException e) {
                    throw new IllegalStateException(e);
                }
            });
        } catch (RuntimeException e) {
            LOG.error("datapath clock sync failed: error=\"{}\"", e.getMessage());
        }
    }

    private void gc() {
        try {
            State s = state;
            Set<Integer> nodeIds = new HashSet<>();
            s.cluster().nodes().forEach(n -> nodeIds.add(n.id()));
            manager.collectGarbage(new GcScope(nodeIds, s.cluster().identities(), Optional.of(s.localIdentities()), true));
        } catch (BpfException | RuntimeException e) {
            LOG.error("auth map garbage collection failed: error=\"{}\"", e.getMessage());
        }
    }

    private Optional<InetSocketAddress> agentAddress(int nodeId) {
        State s = state;
        if (nodeId == 0) {
            return Optional.of(new InetSocketAddress(s.self().internalIp(), config.port() == 0 ? server.port() : config.port()));
        }
        return s.cluster().nodes().stream().filter(n -> n.id() == nodeId).findFirst()
                .map(n -> new InetSocketAddress(n.internalIp(), config.port()));
    }

    /** The auth manager (status, tests). */
    public AuthManager manager() {
        return manager;
    }

    /** The auth map. */
    public AuthMap authMap() {
        return authMap;
    }

    /** The auth events of this agent. */
    public EventLog events() {
        return events;
    }

    /** Handshakes this node's listener accepted (peers that authenticated to us). */
    public long handshakesAccepted() {
        return server.accepted();
    }

    /** The standalone datapath, when this agent runs one. */
    public Optional<Datapath> datapath() {
        return datapath;
    }

    /** Pairs this node must hold. */
    public Set<AuthKey> required() {
        return state.required();
    }

    private String nodeName(int id) {
        State s = state;
        if (id == 0) {
            return config.nodeName();
        }
        return s.cluster().nodes().stream().filter(n -> n.id() == id).map(NodeInfo::name).findFirst().orElse("?");
    }

    State state() {
        return state;
    }

    AgentConfig config() {
        return config;
    }

    InstantSource clock() {
        return clock;
    }

    Instant startedAt() {
        return startedAt;
    }

    DelegatedIdentityClient identities() {
        return identities;
    }

    SpireLink spire() {
        return spire;
    }

    int listenerPort() {
        return server.port();
    }

    String tlsProvider() {
        return server.tlsProvider();
    }

    long handshakesRefused() {
        return server.refused();
    }

    Map<String, String> sourceProblems() {
        return source.problems();
    }

    /** Where the metrics endpoint listens, if served. */
    public Optional<InetSocketAddress> metricsAddress() {
        return Optional.ofNullable(metricsAddress);
    }

    /**
     * Stops accepting, lets handshakes in flight finish (bounded by the handshake and connect timeouts),
     * detaches meshauth's programs, and keeps the pinned auth map and its entries.
     */
    @Override
    public void close() {
        closeServers();
        loop.shutdownNow();
        source.close();
        server.close(); // stop accepting; peers' handshakes in flight finish
        manager.close(); // our handshakes in flight finish or time out; nothing new starts
        client.close();
        datapath.ifPresent(Datapath::close); // detaches our programs; the pinned auth map stays
        identities.close();
        authMap.close();
        ciliumIds.ifPresent(CiliumNodeIds::close);
    }

}
