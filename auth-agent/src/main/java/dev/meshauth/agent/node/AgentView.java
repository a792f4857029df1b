package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManager;
import dev.meshauth.agent.events.EventLog;
import dev.meshauth.bpf.auth.AuthMap;
import dev.meshauth.spire.delegated.DelegatedIdentityClient;

import java.time.Instant;
import java.time.InstantSource;
import java.util.Map;

/** What the status API reads of a running agent: a read-only view, not the agent's wiring. */
interface AgentView {
    /**
     * The mutual auth listener.
     *
     * @param port     where it listens
     * @param provider its TLS provider
     * @param accepted handshakes accepted
     * @param refused  connections refused or failed
     */
    record Listener(String address, int port, String provider, long accepted, long refused) {
    }

    /** The settings. */
    AgentConfig config();

    /** What this node needs now. */
    ClusterView.State cluster();

    /** Wall time. */
    InstantSource clock();

    /** When the agent started. */
    Instant startedAt();

    /** Entries, counters. */
    AuthManager auth();

    /** The kernel (or memory) auth map: the truth of what is enforced. */
    AuthMap authMap();

    /** SVIDs and the bundle held. */
    DelegatedIdentityClient identities();

    /** The SPIRE agent connection. */
    SpireLink spire();

    /** The listener's figures now. */
    Listener listener();

    /** Recent and live auth events. */
    EventLog events();

    /** Parts of the source refused. */
    Map<String, String> sourceProblems();

    /** Why the newest cluster view was refused (policy evaluation over budget, policy map too small...). */
    java.util.Optional<String> viewRefusal();
}
