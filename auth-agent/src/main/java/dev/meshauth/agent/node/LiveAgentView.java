package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManager;
import dev.meshauth.agent.events.EventLog;
import dev.meshauth.agent.handshake.MutualAuthServer;
import dev.meshauth.agent.node.source.ClusterSource;
import dev.meshauth.bpf.auth.AuthMap;
import dev.meshauth.spire.delegated.DelegatedIdentityClient;

import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;

/** A running agent's parts, read through {@link AgentView}. */
record LiveAgentView(AgentConfig config, ClusterView view, InstantSource clock, Instant startedAt, AuthManager auth,
        AuthMap authMap, DelegatedIdentityClient identities, SpireLink spire, MutualAuthServer server, EventLog events,
        ClusterSource source) implements AgentView {
    @Override
    public ClusterView.State cluster() {
        return view.current();
    }

    @Override
    public Listener listener() {
        return new Listener(server.address().getAddress().isAnyLocalAddress() ? "*"
                : server.address().getAddress().getHostAddress(), server.port(), server.tlsProvider(), server.accepted(),
                server.refused());
    }

    @Override
    public Map<String, String> sourceProblems() {
        return source.problems();
    }

    @Override
    public java.util.Optional<String> viewRefusal() {
        return view.refusal();
    }
}
