package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManagerOptions;
import io.spiffe.spiffeid.TrustDomain;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/**
 * What {@code meshauth agent} runs with (standalone sources: an endpoints file and policy files).
 *
 * @param nodeName       which node of the endpoints file this agent serves
 * @param endpoints      the endpoints file (nodes and endpoints)
 * @param policies       policy files or directories
 * @param identitiesFile where label-allocated identities persist (shared with the operator), if any
 * @param adminSocket    the SPIRE agent's admin socket (Delegated Identity API)
 * @param trustDomain    the trust domain
 * @param port           mutual auth listener port (Cilium: 4250), on the node's InternalIP
 * @param authMap        pin path of the auth map; empty for the in-memory map ({@code --datapath memory})
 * @param standalone     also run meshauth's own enforcement program ({@code --datapath standalone})
 * @param gcInterval     garbage collection interval
 * @param manager        auth manager settings
 * @param connectTimeout mutual auth connect timeout
 */
public record AgentConfig(String nodeName, Path endpoints, List<Path> policies, Optional<Path> identitiesFile,
        Path adminSocket, TrustDomain trustDomain, int port, Optional<Path> authMap, boolean standalone, Duration gcInterval,
        AuthManagerOptions manager, Duration connectTimeout) {
    /** Copies. */
    public AgentConfig {
        policies = List.copyOf(policies);
        if (standalone && authMap.isEmpty()) {
            throw new IllegalArgumentException("the standalone datapath needs the pinned auth map (--auth-map), not memory");
        }
    }
}
