package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManager;
import dev.meshauth.agent.auth.GcScope;
import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.events.DecisionLog;
import dev.meshauth.agent.events.EventLog;
import dev.meshauth.agent.events.Origin;
import dev.meshauth.agent.handshake.DelegatedIdentityStore;
import dev.meshauth.agent.handshake.InboundHandshake;
import dev.meshauth.agent.handshake.InboundRefusal;
import dev.meshauth.agent.handshake.MutualAuthClient;
import dev.meshauth.agent.handshake.MutualAuthServer;
import dev.meshauth.agent.lifecycle.Lifecycle;
import dev.meshauth.agent.metrics.AgentMetrics;
import dev.meshauth.agent.metrics.MetricsServer;
import dev.meshauth.agent.node.source.ClusterSource;
import dev.meshauth.agent.status.StatusServer;
import dev.meshauth.agent.time.ClockStepWatch;
import dev.meshauth.agent.time.Clocks;
import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthMap;
import dev.meshauth.bpf.auth.AuthMapLayout;
import dev.meshauth.bpf.auth.InMemoryAuthMap;
import dev.meshauth.bpf.auth.KernelAuthMap;
import dev.meshauth.bpf.datapath.AuthSignal;
import dev.meshauth.bpf.datapath.ClockOffset;
import dev.meshauth.bpf.datapath.Datapath;
import dev.meshauth.bpf.datapath.DatapathOptions;
import dev.meshauth.policy.PolicyException;
import dev.meshauth.policy.endpoint.NodeInfo;
import dev.meshauth.spire.delegated.DelegatedIdentityClient;
import dev.meshauth.spire.delegated.DelegatedIdentityOptions;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.function.Consumer;
import java.util.stream.Collectors;
import java.util.random.RandomGenerator;

/**
 * The node agent's composition root. It builds its collaborators in dependency order onto a
 * {@link Lifecycle}, so a failure at any step closes exactly what was started and a stop closes
 * everything newest first: the status and metrics endpoints, the datapath, the auth manager and its
 * workers, the mutual auth client and listener, the SPIRE streams, the auth map, the source, the loop.
 *
 * <p>Threads: the agent's loop (one thread) owns the cluster view ({@link ClusterView}) and runs
 * programming, GC, renumbering and the datapath clock; the SPIRE client's thread delivers identity events
 * ({@link IdentityEvents}); handshakes run on the auth workers ({@link AuthManager}).
 */
public final class Agent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);
    private static final Duration HANDSHAKE_TIMEOUT = Duration.ofSeconds(5);

    private final Lifecycle life = new Lifecycle("agent");
    private final AgentConfig config;
    private final Clocks time;
    private final AtomicLong clockSteps = new AtomicLong();
    private final ExecutorService loop;
    private final Instant startedAt;
    private final EventLog events = new EventLog(1024);
    private final SpireLink spire = new SpireLink();
    private final EndpointAttachments attachments = new EndpointAttachments();
    private final ClusterSource source;
    private final ClusterView view;
    private final AuthMap authMap;
    private final DelegatedIdentityClient identities;
    private final MutualAuthServer server;
    private final AuthManager manager;
    private final Optional<Datapath> datapath;
    private volatile SynPutBack heldSyns; // set with the standalone datapath
    private final Object svidsArrived = new Object();
    private volatile InetSocketAddress metricsAddress;
    private AgentView statusView;

    private Agent(AgentConfig config, Clocks time, boolean ownsScheduler) throws BpfException, IOException,
            PolicyException, InterruptedException {
        this.config = config;
        this.time = time;
        InstantSource clock = time.clock();
        this.startedAt = clock.instant();
        life.start();
        try {
            if (ownsScheduler) {
                life.add("timers", time.scheduler(), () -> {
                    time.scheduler().shutdownNow();
                    time.scheduler().awaitTermination(5, TimeUnit.SECONDS);
                });
            }
            ExecutorService loop = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("meshauth-agent").factory());
            life.add("loop", loop, () -> {
                loop.shutdownNow();
                loop.awaitTermination(5, TimeUnit.SECONDS);
            });
            this.loop = loop;
            Optional<CiliumNodeIds> ciliumIds = config.ciliumNodeMap().isPresent()
                    ? Optional.of(life.add("cilium node map", openCiliumNodeMap(config.ciliumNodeMap().get())))
                    : Optional.empty();
            this.source = life.add("source", config.source().open());
            Needs needs = new Needs(config.nodeName(), ciliumIds, source.describe(),
                    config.standalone() ? Optional.of(config.tuning().policyMapMax()) : Optional.empty(),
                    new EvaluationBudget(config.tuning().evaluationBudget(), time.ticker()));
            this.view = new ClusterView(loop, needs);
            ClusterView.State first = view.install(source.start(view::offer));
            this.authMap = life.add("auth map", config.authMap().isPresent()
                    ? KernelAuthMap.openOrCreateExclusive(config.authMap().get(), AuthMapLayout.DEFAULT_MAX_ENTRIES)
                    : new InMemoryAuthMap(AuthMapLayout.DEFAULT_MAX_ENTRIES));
            this.identities = life.add("spire streams", DelegatedIdentityClient.create(
                    DelegatedIdentityOptions.defaults(config.adminSocket(), config.trustDomain()), clock));
            DelegatedIdentityStore store = new DelegatedIdentityStore(identities, config.trustDomain(),
                    id -> view.current().localIdentities().contains(id));
            this.server = life.add("mutual auth listener", MutualAuthServer.start(new MutualAuthServer.Options(
                    config.listen().host(first.self().internalIp()).orElse(null), config.port(), HANDSHAKE_TIMEOUT, 256),
                    store, clock, h -> events.accept(inbound(h))));
            MutualAuthClient.Options d = MutualAuthClient.Options.DEFAULTS;
            MutualAuthClient client = life.add("mutual auth client", new MutualAuthClient(new MutualAuthClient.Options(
                    config.connectTimeout(), d.verdictTimeout(), d.maxConcurrent()), store, clock));
            ExecutorService workers = Executors.newThreadPerTaskExecutor(
                    Thread.ofVirtual().name("meshauth-auth-worker-", 0).factory());
            life.add("auth workers", workers, () -> {
                workers.shutdown(); // handshakes in flight finish, bounded by the connect and verdict timeouts
                workers.awaitTermination(config.connectTimeout().plusSeconds(5).toSeconds(), TimeUnit.SECONDS);
            });
            this.manager = life.add("auth manager", new AuthManager(authMap, client::authenticate, this::agentAddress, time,
                    workers, config.manager(), RandomGenerator.getDefault(), events));
            life.add("decision log", events.subscribe(new DecisionLog(this::nodeName)));
            serveStatusAndMetrics(); // before the first handshake, so metrics count it
            this.datapath = config.standalone() ? Optional.of(startDatapath()) : Optional.empty();
            // SVIDs first: a handshake tried before its SVID arrives only fails (NO_LOCAL_SVID). Wait for them,
            // bounded, then program the first view and authenticate.
            java.util.concurrent.atomic.AtomicBoolean handshaking = new java.util.concurrent.atomic.AtomicBoolean();
            IdentityEvents handler = new IdentityEvents(spire, manager, () -> view.current().required(), events, clock,
                    handshaking::get);
            identities.subscribe(e -> {
                handler.accept(e);
                synchronized (svidsArrived) {
                    svidsArrived.notifyAll();
                }
            });
            awaitLocalSvids(first, config.tuning().svidWait());
            handshaking.set(true);
            view.attach(this::applied); // programs the first view, then every later one
            long gc = config.gcInterval().toMillis();
            every(Duration.ofMillis(gc), this::gc);
            ClockStepWatch steps = new ClockStepWatch(time.clock(), time.ticker(), ClockStepWatch.DEFAULT_THRESHOLD);
            // Checked on the timer thread, where both clocks are read together; the reaction runs on the loop.
            time.scheduler().scheduleWithFixedDelay(() -> steps.check().ifPresent(by -> loop.execute(() -> clockStepped(by))),
                    1, 1, TimeUnit.SECONDS);
            if (ciliumIds.isPresent()) {
                every(Duration.ofSeconds(5), () -> view.rederiveIf(needs::renumbered));
            }
            life.running();
        } catch (Exception | Error e) {
            life.close();
            throw e;
        }
        LOG.atInfo().addKeyValue("node", config.nodeName()).addKeyValue("source", source.describe())
                .addKeyValue("datapath", config.datapathMode())
                .addKeyValue("listener", view.current().self().internalIp() + ":" + server.port())
                .addKeyValue("auth_map", authMap.location()).addKeyValue("required_pairs", view.current().required().size())
                .log("agent up");
    }

    /**
     * Starts the agent; on any failure, everything already started is closed again before this throws.
     *
     * @throws PolicyException if the endpoints or policy files are invalid (nothing starts)
     * @throws BpfException    if the auth map cannot be opened or created
     * @throws IOException     if a source cannot be read or does not sync, or a listener cannot bind
     */
    public static Agent start(AgentConfig config, InstantSource clock) throws BpfException, IOException, PolicyException,
            InterruptedException {
        Clocks system = Clocks.system("meshauth-agent-timers");
        return new Agent(config, new Clocks(clock, system.ticker(), system.scheduler()), true);
    }

    /**
     * Starts the agent on {@code time}: its timed work (GC, renumbering, the datapath clock, the auth
     * manager's refresh, retries and deadlines) runs on {@code time}'s scheduler, which the caller owns.
     */
    public static Agent start(AgentConfig config, Clocks time) throws BpfException, IOException, PolicyException,
            InterruptedException {
        return new Agent(config, time, false);
    }

    /** The listener's handshakes by outcome, for the metrics. */
    private Map<String, Long> inboundCounts() {
        Map<String, Long> out = new java.util.LinkedHashMap<>();
        out.put("accepted", server.accepted());
        server.refusedByReason().forEach((reason, n) -> {
            if (n > 0) {
                out.put(reason.label(), n);
            }
        });
        return out;
    }

    /** A handshake the listener served, as an event, with the node at the peer's address if known. */
    private AuthEvent inbound(InboundHandshake h) {
        String address = h.peer().getAddress().getHostAddress();
        ClusterView.State s = view.current();
        Optional<String> node = s == null ? Optional.empty() : s.cluster().nodes().stream()
                .filter(n -> n.internalIp().equals(address)).map(NodeInfo::name).findFirst();
        return new AuthEvent.InboundHandshake(time.clock().instant(), address + ":" + h.peer().getPort(), node, h.served(),
                h.client(), h.accepted(), h.refusal().map(InboundRefusal::label).orElse(""),
                h.detail());
    }

    /** Cilium's node map, or what to do without Cilium. */
    private static CiliumNodeIds openCiliumNodeMap(java.nio.file.Path pin) throws IOException {
        try {
            return CiliumNodeIds.open(pin);
        } catch (BpfException e) {
            throw new IOException("cannot open Cilium's node map at " + pin + " (--cilium-node-map), where Cilium's agent"
                    + " keeps the node ids its datapath uses: " + e.getMessage() + ". Is Cilium running on this node? Without"
                    + " Cilium, use --node-ids source (meshauth numbers the nodes) or --datapath standalone", e);
        }
    }

    /** Runs {@code task} on the agent's loop every {@code period}, timed by the injected scheduler. */
    private void every(Duration period, Runnable task) {
        time.scheduler().scheduleWithFixedDelay(() -> loop.execute(task), period.toNanos(), period.toNanos(),
                TimeUnit.NANOSECONDS);
    }

    private Datapath startDatapath() throws BpfException {
        DatapathOptions options = DatapathOptions.defaults(PolicyLookupOrder.forDatapath())
                .withPolicyEntries(config.tuning().policyMapMax())
                .withConntrack(config.tuning().conntrackMax(), config.tuning().ctTimeouts())
                .withHeldSyns(config.tuning().holdSyns());
        Datapath dp = life.add("datapath", Datapath.create((KernelAuthMap) authMap, options,
                new ClockOffset(time.clock(), System::nanoTime))); // the kernel's ktime is CLOCK_MONOTONIC, never injected
        Consumer<AuthSignal> signals = sig -> {
            events.accept(new AuthEvent.AuthRequiredDrop(time.clock().instant(), sig.key()));
            manager.request(sig.key(), Origin.SIGNAL);
        };
        if (!config.tuning().holdSyns()) {
            life.add("datapath signals", dp.subscribe(signals));
        } else {
            SynPutBack syns = life.add("held syns", SynPutBack.start(attachments, authMap, time, events));
            this.heldSyns = syns;
            life.add("datapath signals", dp.subscribe(signals, syn -> {
                syns.held(syn);
                manager.request(syn.key(), Origin.SIGNAL); // its auth signal may have been rate-limited away
            }));
        }
        every(Duration.ofSeconds(60), this::syncClock);
        return dp;
    }

    /** What became of the SYNs the standalone datapath held; empty without it. */
    Optional<HeldSyns.Stats> heldSynStats() {
        SynPutBack syns = heldSyns;
        return syns == null ? Optional.empty() : Optional.of(syns.stats());
    }

    private void serveStatusAndMetrics() throws IOException {
        statusView = new LiveAgentView(config, view, time.clock(), startedAt, manager, authMap, identities, spire, server, events,
                source);
        if (config.statusSocket().isPresent()) {
            life.add("status socket", StatusServer.start(config.statusSocket().get(), new AgentStatusApi(statusView)));
        }
        if (config.metrics().isPresent()) {
            AgentMetrics metrics = new AgentMetrics(new AgentMetrics.Sources(manager::stats, authMap::maxEntries,
                    () -> identities.svids().entrySet().stream().collect(Collectors.toMap(Map.Entry::getKey,
                            e -> e.getValue().notAfter())), identities::reconnects, spire::bundleChanges,
                    this::datapathCounters, this::inboundCounts));
            life.add("metrics subscription", events.subscribe(metrics));
            MetricsServer m = life.add("metrics endpoint", MetricsServer.start(config.metrics().get(), metrics.registry(),
                    () -> spire.notReady(config.adminSocket())));
            metricsAddress = m.address();
        }
    }

    /** A view was applied (on the loop): program the datapath, authenticate new pairs, collect what is gone. */
    private void applied(ClusterView.State s) throws BpfException {
        if (datapath.isPresent()) {
            DatapathProgrammer.apply(new KernelDatapathTables(datapath.get()), s.cluster().nodes(), s.cluster().endpoints(),
                    s.engine(), s.self(), s.localIdentities());
            attachments.sync(datapath.get(), s.cluster().endpoints(), s.self().name());
        }
        manager.setRequired(s.required());
        gc();
    }

    /**
     * Waits, at most {@code max} (real time: SPIRE delivers in real time), until this node holds an SVID for
     * every local identity of a required pair; logs what it still lacks if the wait ends first.
     */
    private void awaitLocalSvids(ClusterView.State s, Duration max) throws InterruptedException {
        Set<Long> wanted = new HashSet<>();
        s.required().forEach(k -> wanted.add(k.localIdentity()));
        long deadline = System.nanoTime() + max.toNanos();
        synchronized (svidsArrived) {
            while (!identities.svids().keySet().containsAll(wanted)) {
                long left = deadline - System.nanoTime();
                if (left <= 0) {
                    Set<Long> missing = new HashSet<>(wanted);
                    missing.removeAll(identities.svids().keySet());
                    LOG.atWarn().addKeyValue("identities", missing).addKeyValue("waited", dev.meshauth.spire.config.GoDuration
                            .format(max)).log("starting without the SVIDs of some local identities: their pairs fail as no-local-svid and are"
                            + " authenticated when SPIRE issues them (is each identity registered? meshauth operator)");
                    return;
                }
                svidsArrived.wait(Math.max(1, left / 1_000_000));
            }
        }
    }

    /** The standalone datapath's counters by lower-case name, for metrics; empty without one (or if unreadable). */
    private Map<String, Long> datapathCounters() {
        if (datapath == null || datapath.isEmpty()) {
            return Map.of();
        }
        try {
            Map<String, Long> out = new java.util.HashMap<>();
            datapath.get().counters().forEach((c, n) -> out.put(c.name().toLowerCase(java.util.Locale.ROOT), n));
            SynPutBack syns = heldSyns;
            if (syns != null) {
                HeldSyns.Stats st = syns.stats();
                out.put("syns_reinjected", st.reinjected());
                out.put("syns_expired", st.expired());
                out.put("syns_overflowed", st.overflowed());
                out.put("syns_failed", st.failed());
            }
            return out;
        } catch (BpfException | RuntimeException e) {
            LOG.atWarn().addKeyValue("error", e.getMessage()).log("reading the datapath counters for metrics failed");
            return Map.of();
        }
    }

    private void syncClock() {
        try {
            datapath.orElseThrow().syncClock();
        } catch (BpfException | RuntimeException e) {
            LOG.atError().addKeyValue("error", e.getMessage()).log("datapath clock sync failed; the next sync tries again");
        }
    }

    /**
     * The wall clock was stepped: the kernel's offset to wall time is taken again (else, until the next
     * minute's sync, a step forward keeps expired entries passing and a step back drops valid ones), and
     * expiries are judged again now.
     */
    private void clockStepped(Duration by) {
        LOG.atWarn().addKeyValue("by", dev.meshauth.spire.config.GoDuration.format(by))
                .addKeyValue("now", time.clock().instant())
                .log("the wall clock stepped: the datapath's clock offset is taken again and auth entries are judged at the new time");
        datapath.ifPresent(d -> syncClock());
        gc();
        clockSteps.incrementAndGet();
    }

    /**
     * Waits until the work queued on the agent's loop so far has run (the loop is one thread, in order):
     * for tests that move an injected clock and then look at what the timed work did.
     */
    public void awaitLoop(Duration max) throws InterruptedException, java.util.concurrent.ExecutionException,
            java.util.concurrent.TimeoutException {
        loop.submit(() -> { }).get(max.toNanos(), TimeUnit.NANOSECONDS);
    }

    /** Wall-clock steps noticed since start and reacted to. */
    public long clockSteps() {
        return clockSteps.get();
    }

    private void gc() {
        try {
            ClusterView.State s = view.current();
            Set<Integer> nodeIds = new HashSet<>();
            s.cluster().nodes().forEach(n -> nodeIds.add(n.id()));
            manager.collectGarbage(new GcScope(nodeIds, s.cluster().identities(), Optional.of(s.localIdentities()), true));
        } catch (BpfException | RuntimeException e) {
            LOG.atError().addKeyValue("error", e.getMessage()).addKeyValue("map", authMap.location())
                    .log("auth map garbage collection failed; the next interval tries again");
        }
    }

    private Optional<InetSocketAddress> agentAddress(int nodeId) {
        if (nodeId == 0) {
            return Optional.of(new InetSocketAddress(view.current().self().internalIp(), server.port()));
        }
        return view.node(nodeId).map(n -> new InetSocketAddress(n.internalIp(), config.port()));
    }

    private String nodeName(int id) {
        return id == 0 ? config.nodeName() : view.node(id).map(NodeInfo::name).orElse("?");
    }

    /** The auth manager (tests, the demo). */
    public AuthManager manager() {
        return manager;
    }

    /** The identities this node holds an SVID for, now. */
    public Set<Long> svidsHeld() {
        return Set.copyOf(identities.svids().keySet());
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
        return view.current().required();
    }

    /** Where the metrics endpoint listens, if served. */
    public Optional<InetSocketAddress> metricsAddress() {
        return Optional.ofNullable(metricsAddress);
    }

    /** What the status API reads of this agent. */
    AgentView view() {
        return statusView;
    }

    /** Where the agent is in its life. */
    public Lifecycle.State lifecycle() {
        return life.state();
    }

    /**
     * Closes everything newest first: the endpoints, the datapath (our programs detach; the pinned auth map
     * and its entries stay), the manager (our handshakes in flight finish or time out), the listener
     * (peers' handshakes in flight finish), the streams, the map handle, the source and the loop.
     */
    @Override
    public void close() {
        life.close();
    }
}
