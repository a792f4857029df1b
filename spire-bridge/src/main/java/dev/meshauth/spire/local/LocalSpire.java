package dev.meshauth.spire.local;

import io.spiffe.spiffeid.SpiffeId;

import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * A real SPIRE deployment on this host: one {@code spire-server} and one {@code spire-agent} per named
 * node, each agent attested with its own join token. Everything is stopped by {@link #close()} (agents
 * first, as their start order reversed), also when the JVM exits.
 */
public final class LocalSpire implements AutoCloseable {
    private final LocalSpireServer server;
    private final Map<String, LocalSpireAgent> agents;
    private final Thread shutdownHook = new Thread(this::stopAll, "local-spire-stop");
    private boolean closed;

    private LocalSpire(LocalSpireServer server, Map<String, LocalSpireAgent> agents) {
        this.server = server;
        this.agents = agents;
    }

    /**
     * Starts the server, then the agents in order, under {@code dir} ({@code dir/server},
     * {@code dir/<node>}); a failure stops what already started.
     *
     * @throws LocalSpireException if a process does not become healthy (the message holds its log)
     */
    public static LocalSpire start(SpireBinaries bin, Path dir, LocalSpireServer.Settings serverSettings,
            List<LocalSpireAgent.Settings> agentSettings) throws LocalSpireException {
        LocalSpireServer server = LocalSpireServer.start(bin, dir.resolve("server"), serverSettings);
        Map<String, LocalSpireAgent> agents = new LinkedHashMap<>();
        LocalSpire spire = new LocalSpire(server, agents);
        Runtime.getRuntime().addShutdownHook(spire.shutdownHook);
        try {
            for (LocalSpireAgent.Settings s : agentSettings) {
                if (agents.containsKey(s.name())) {
                    throw new IllegalArgumentException("two agents named " + s.name());
                }
                agents.put(s.name(), LocalSpireAgent.start(bin, dir.resolve(s.name()), s, server));
            }
            return spire;
        } catch (LocalSpireException | RuntimeException e) {
            spire.close();
            throw e;
        }
    }

    /** The server. */
    public LocalSpireServer server() {
        return server;
    }

    /** The agent of {@code node}. */
    public LocalSpireAgent agent(String node) {
        LocalSpireAgent a = agents.get(node);
        if (a == null) {
            throw new IllegalArgumentException("no SPIRE agent for node " + node + "; agents: " + agents.keySet());
        }
        return a;
    }

    /** Every agent, in start order. */
    public List<LocalSpireAgent> agents() {
        return List.copyOf(agents.values());
    }

    /** Registers a workload on {@code node}: parent the node's alias; returns the entry id. */
    public String register(String node, SpiffeId spiffeId, List<String> selectors) throws LocalSpireException {
        return server.createEntry(agent(node).nodeAlias(), spiffeId, selectors);
    }

    /** Registers the same workload on every node (one entry per node alias); returns the entry ids. */
    public List<String> registerOnEveryNode(SpiffeId spiffeId, List<String> selectors) throws LocalSpireException {
        List<String> ids = new ArrayList<>();
        for (String node : agents.keySet()) {
            ids.add(register(node, spiffeId, selectors));
        }
        return ids;
    }

    /**
     * Registers on every node what a SPIRE admin registers for meshauth, both for this process's uid: the
     * meshauth agent ({@code agent}, which the agents list in authorized_delegates) and the operator
     * ({@code operator}, the parent of identity entries, so they reach every agent); then waits until
     * every agent issues {@code agent} (entries take effect at the next server cache reload and agent sync).
     *
     * @throws LocalSpireException if an entry cannot be created or an agent does not issue it within {@code max}
     */
    public void registerMeshauth(SpiffeId agent, SpiffeId operator, java.time.Duration max) throws LocalSpireException {
        List<String> me = List.of("unix:uid:" + dev.meshauth.spire.UnixSelectors.currentUid());
        registerOnEveryNode(agent, me);
        registerOnEveryNode(operator, me);
        for (LocalSpireAgent a : agents.values()) {
            a.awaitSvid(agent, max);
        }
    }

    /** Every process's log tail, newest run last: for a failure report. */
    public String logs(int lines) {
        StringBuilder sb = new StringBuilder();
        sb.append("==== spire-server (").append(server.log()).append(")\n").append(server.logTail(lines)).append('\n');
        for (LocalSpireAgent a : agents.values()) {
            sb.append("==== spire-agent ").append(a.name()).append(" (").append(a.log()).append(")\n")
                    .append(a.logTail(lines)).append('\n');
        }
        return sb.toString();
    }

    private synchronized void stopAll() {
        if (closed) {
            return;
        }
        closed = true;
        List<LocalSpireAgent> reversed = new ArrayList<>(agents.values());
        java.util.Collections.reverse(reversed);
        reversed.forEach(LocalSpireAgent::close);
        server.close();
    }

    @Override
    public void close() {
        stopAll();
        try {
            Runtime.getRuntime().removeShutdownHook(shutdownHook);
        } catch (IllegalStateException e) {
            // the JVM is shutting down: the hook runs stopAll, which is idempotent
        }
    }
}
