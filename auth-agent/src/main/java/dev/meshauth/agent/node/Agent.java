package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManager;
import dev.meshauth.agent.handshake.DelegatedIdentityStore;
import dev.meshauth.agent.handshake.MutualAuthClient;
import dev.meshauth.agent.handshake.MutualAuthServer;
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
import dev.meshauth.bpf.link.TcxLink;
import dev.meshauth.policy.PolicyException;
import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.endpoint.EndpointsFile;
import dev.meshauth.policy.endpoint.IdentityAllocator;
import dev.meshauth.policy.endpoint.NodeInfo;
import dev.meshauth.policy.eval.AuthRequirement;
import dev.meshauth.policy.eval.PolicyEngine;
import dev.meshauth.policy.model.Policy;
import dev.meshauth.policy.yaml.PolicyParser;
import dev.meshauth.spire.delegated.DelegatedIdentityClient;
import dev.meshauth.spire.delegated.DelegatedIdentityOptions;
import dev.meshauth.spire.delegated.IdentityEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.FileTime;
import java.time.Duration;
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
import java.util.stream.Stream;

/**
 * The node agent, standalone sources: endpoints and policies from files (watched: an edit applies within
 * a second; one that does not parse is reported and the last good state kept), workload SVIDs from the
 * SPIRE agent's Delegated Identity API, mutual TLS with the other nodes' agents, and the auth map filled
 * ahead of traffic with the pairs the policies require on this node.
 */
public final class Agent implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Agent.class);

    private final AgentConfig config;
    private final AuthMap authMap;
    private final DelegatedIdentityClient identities;
    private final MutualAuthServer server;
    private final MutualAuthClient client;
    private final AuthManager manager;
    private final ScheduledExecutorService loop = Executors.newSingleThreadScheduledExecutor(
            Thread.ofPlatform().daemon().name("meshauth-agent").factory());
    private volatile State state;
    private Map<Path, FileTime> seen = Map.of();
    private final Optional<Datapath> datapath;
    private final Map<String, TcxLink> attached = new HashMap<>(); // @GuardedBy("this"): endpoint id -> link

    /** Nodes, endpoints, the engine and what this node needs. */
    private record State(List<NodeInfo> nodes, List<Endpoint> endpoints, PolicyEngine engine, Set<AuthKey> required,
            Set<Long> localIdentities, NodeInfo self) {
    }

    private Agent(AgentConfig config, InstantSource clock) throws BpfException, IOException, PolicyException,
            InterruptedException {
        this.config = config;
        this.state = load();
        this.authMap = config.authMap().isPresent()
                ? KernelAuthMap.openOrCreate(config.authMap().get(), AuthMapLayout.DEFAULT_MAX_ENTRIES)
                : new InMemoryAuthMap(AuthMapLayout.DEFAULT_MAX_ENTRIES);
        AuthManager[] managerRef = new AuthManager[1];
        this.identities = DelegatedIdentityClient.start(
                DelegatedIdentityOptions.defaults(config.adminSocket(), config.trustDomain()), clock, e -> {
                    if (managerRef[0] == null) {
                        return;
                    }
                    switch (e) {
                        case IdentityEvent.SvidRotated r -> managerRef[0].svidRotated(r.identity());
                        case IdentityEvent.SvidRemoved r -> managerRef[0].svidRemoved(r.identity());
                        case IdentityEvent.SvidAdded a -> managerRef[0].setRequired(state.required());
                        default -> { }
                    }
                });
        DelegatedIdentityStore store = new DelegatedIdentityStore(identities, config.trustDomain(),
                id -> state.localIdentities().contains(id));
        this.server = MutualAuthServer.start(new MutualAuthServer.Options(state.self().internalIp(), config.port(),
                Duration.ofSeconds(5), 256), store, clock);
        this.client = new MutualAuthClient(new MutualAuthClient.Options(config.connectTimeout(), Duration.ofSeconds(2), 64),
                store, clock);
        this.manager = new AuthManager(authMap, client::authenticate, this::agentAddress, clock, config.manager(),
                RandomGenerator.getDefault());
        managerRef[0] = manager;
        this.datapath = config.standalone()
                ? Optional.of(Datapath.create((KernelAuthMap) authMap, DatapathOptions.DEFAULTS, new ClockOffset()))
                : Optional.empty();
        if (datapath.isPresent()) {
            datapath.get().subscribe(sig -> manager.request(sig.key(), AuthManager.Origin.SIGNAL));
            program(state);
            loop.scheduleWithFixedDelay(this::syncClock, 60, 60, TimeUnit.SECONDS);
        }
        manager.setRequired(state.required());
        loop.scheduleWithFixedDelay(this::reloadIfChanged, 500, 500, TimeUnit.MILLISECONDS);
        loop.scheduleWithFixedDelay(this::gc, config.gcInterval().toMillis(), config.gcInterval().toMillis(),
                TimeUnit.MILLISECONDS);
        LOG.info("agent up: node={} listener={}:{} auth_map={} required_pairs={}", config.nodeName(),
                state.self().internalIp(), server.port(), authMap.location(), state.required().size());
    }

    /**
     * Starts the agent.
     *
     * @throws PolicyException if the endpoints or policy files are invalid (nothing starts)
     * @throws BpfException    if the auth map cannot be opened or created
     */
    public static Agent start(AgentConfig config, InstantSource clock) throws BpfException, IOException, PolicyException,
            InterruptedException {
        return new Agent(config, clock);
    }

    private State load() throws IOException, PolicyException {
        EndpointsFile.Contents c = EndpointsFile.parse(config.endpoints().toString(), Files.readString(config.endpoints()),
                new IdentityAllocator(config.identitiesFile()));
        NodeInfo self = c.node(config.nodeName()).orElseThrow(() -> new PolicyException(List.of(new PolicyException.Problem(
                config.endpoints().toString(), 0, 0, "nodes", "this agent's node '" + config.nodeName()
                        + "' (--node-name) is not in the endpoints file"))));
        List<Policy> policies = new ArrayList<>();
        for (Path f : policyFiles()) {
            policies.addAll(PolicyParser.parse(f.toString(), Files.readString(f)).policies());
        }
        PolicyEngine engine = PolicyEngine.evaluate(policies, c.endpoints());
        Set<AuthKey> required = new HashSet<>();
        for (AuthRequirement r : engine.requiredAuth(c.endpoints(), c.nodes())) {
            if (r.node().equals(self.name())) {
                required.add(new AuthKey(r.local(), r.remote(), r.remoteNodeId(), new AuthType(r.authType().code())));
            }
        }
        Set<Long> local = new HashSet<>();
        c.endpoints().stream().filter(e -> e.node().equals(self.name())).forEach(e -> local.add(e.identity()));
        return new State(c.nodes(), c.endpoints(), engine, Set.copyOf(required), Set.copyOf(local), self);
    }

    /** Programs the standalone datapath's maps and attaches it to this node's endpoints. */
    private synchronized void program(State s) throws BpfException {
        if (datapath.isEmpty()) {
            return;
        }
        Datapath dp = datapath.get();
        DatapathProgrammer.apply(dp, s.nodes(), s.endpoints(), s.engine(), s.self(), s.localIdentities());
        Set<String> wanted = new HashSet<>();
        for (Endpoint e : s.endpoints()) {
            if (!e.node().equals(s.self().name()) || e.iface().isEmpty()) {
                continue;
            }
            wanted.add(e.id());
            if (!attached.containsKey(e.id())) {
                attached.put(e.id(), dp.attachToEndpoint(e.iface().get(), e.netns().map(dev.meshauth.bpf.link.NetNs::named)));
            }
        }
        for (var it = attached.entrySet().iterator(); it.hasNext(); ) {
            var a = it.next();
            if (!wanted.contains(a.getKey())) {
                dp.detach(a.getValue());
                it.remove();
            }
        }
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

    private List<Path> policyFiles() throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path p : config.policies()) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.list(p)) {
                    s.filter(f -> f.toString().endsWith(".yaml") || f.toString().endsWith(".yml")).sorted().forEach(out::add);
                }
            } else {
                out.add(p);
            }
        }
        return out;
    }

    private Map<Path, FileTime> stamps() throws IOException {
        Map<Path, FileTime> m = new HashMap<>();
        m.put(config.endpoints(), Files.getLastModifiedTime(config.endpoints()));
        for (Path f : policyFiles()) {
            m.put(f, Files.getLastModifiedTime(f));
        }
        return m;
    }

    private void reloadIfChanged() {
        try {
            Map<Path, FileTime> now = stamps();
            if (seen.isEmpty()) {
                seen = now;
                return;
            }
            if (now.equals(seen)) {
                return;
            }
            seen = now;
            State next = load();
            state = next;
            program(next);
            manager.setRequired(next.required());
            gc();
            LOG.info("configuration reloaded: endpoints={} required_pairs={}", next.endpoints().size(), next.required().size());
        } catch (PolicyException e) {
            LOG.error("configuration edit refused, the last good state stays: problems=\"{}\"", e.getMessage().replace('\n', ';'));
        } catch (IOException | BpfException | RuntimeException e) {
            LOG.error("configuration reload failed, the last good state stays: error=\"{}\"", e.toString());
        }
    }

    private void gc() {
        try {
            Set<Integer> nodeIds = new HashSet<>();
            state.nodes().forEach(n -> nodeIds.add(n.id()));
            manager.collectGarbage(nodeIds, state.localIdentities(), true);
        } catch (BpfException | RuntimeException e) {
            LOG.error("auth map garbage collection failed: error=\"{}\"", e.getMessage());
        }
    }

    private Optional<InetSocketAddress> agentAddress(int nodeId) {
        State s = state;
        if (nodeId == 0) {
            return Optional.of(new InetSocketAddress(s.self().internalIp(), config.port() == 0 ? server.port() : config.port()));
        }
        return s.nodes().stream().filter(n -> n.id() == nodeId).findFirst()
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

    /** Stops accepting, finishes in-flight handshakes, keeps the pinned auth map and its entries. */
    @Override
    public void close() {
        loop.shutdownNow();
        datapath.ifPresent(Datapath::close); // detaches our programs; the pinned auth map stays
        server.close();
        manager.close();
        client.close();
        identities.close();
        authMap.close();
    }
}
