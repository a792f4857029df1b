package dev.meshauth.agent.cli;

import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.node.Agent;
import dev.meshauth.agent.node.AgentConfig;
import dev.meshauth.bpf.auth.AuthMapLayout;
import io.spiffe.spiffeid.TrustDomain;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.Callable;
import java.util.concurrent.CountDownLatch;

/**
 * {@code meshauth agent}: the node agent. Flag names follow Cilium's where Cilium has one. This version
 * runs from files (--endpoints, --policies); Kubernetes sources are wired later.
 */
@Command(name = "agent", mixinStandardHelpOptions = true,
        description = "Run the node agent: authenticate identity pairs with the other nodes' agents and fill the auth map.")
public final class AgentCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--node-name", required = true, description = "The node of the endpoints file this agent serves.")
    String nodeName;

    @Option(names = "--endpoints", required = true, paramLabel = "FILE", description = "Nodes and endpoints (watched).")
    Path endpoints;

    @Option(names = "--policies", required = true, arity = "1..*", paramLabel = "PATH",
            description = "CiliumNetworkPolicy files or directories (watched).")
    List<Path> policies;

    @Option(names = "--identities-file", paramLabel = "FILE", description = "Label-allocated identities (shared with the operator).")
    Path identitiesFile;

    @Option(names = "--mesh-auth-spire-admin-socket", required = true, paramLabel = "PATH",
            description = "The SPIRE agent's admin socket (Delegated Identity API).")
    Path adminSocket;

    @Option(names = "--mesh-auth-spiffe-trust-domain", defaultValue = "spiffe.cilium", description = "Default: ${DEFAULT-VALUE}.")
    String trustDomain;

    @Option(names = "--mesh-auth-mutual-listener-port", defaultValue = "4250", description = "Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--mesh-auth-mutual-connect-timeout", defaultValue = "PT5S", description = "Default: ${DEFAULT-VALUE}.")
    Duration connectTimeout;

    @Option(names = "--mesh-auth-queue-size", defaultValue = "1024", description = "Default: ${DEFAULT-VALUE}.")
    int queueSize;

    @Option(names = "--mesh-auth-gc-interval", defaultValue = "PT5M", description = "Default: ${DEFAULT-VALUE}.")
    Duration gcInterval;

    @Option(names = "--mesh-auth-signal-backoff-duration", defaultValue = "PT1S", description = "Default: ${DEFAULT-VALUE}.")
    Duration signalBackoff;

    @Option(names = "--datapath", defaultValue = "cilium",
            description = "cilium: fill the pinned auth map for Cilium's datapath; standalone: also load meshauth's own"
                    + " enforcement program on this node's endpoints and consume its signals; memory: no kernel"
                    + " (development). Default: ${DEFAULT-VALUE}.")
    String datapath;

    @Option(names = "--auth-map", description = "Pin path of the auth map (default: ${DEFAULT-VALUE}).")
    Path authMap = AuthMapLayout.DEFAULT_PIN_PATH;

    @Override
    public Integer call() throws Exception {
        Optional<Path> map = switch (datapath) {
            case "cilium", "standalone" -> Optional.of(authMap);
            case "memory" -> Optional.empty();
            default -> throw new IllegalArgumentException("--datapath must be cilium, standalone or memory, got '" + datapath + "'");
        };
        AuthManagerOptions opts = new AuthManagerOptions(queueSize, signalBackoff, 8, Duration.ofMillis(500),
                Duration.ofSeconds(30), Duration.ofMinutes(1));
        AgentConfig config = new AgentConfig(nodeName, endpoints, policies, Optional.ofNullable(identitiesFile), adminSocket,
                TrustDomain.parse(trustDomain), port, map, datapath.equals("standalone"), gcInterval, opts, connectTimeout);
        CountDownLatch stop = new CountDownLatch(1);
        try (Agent agent = Agent.start(config, InstantSource.system())) {
            Runtime.getRuntime().addShutdownHook(new Thread(stop::countDown));
            spec.commandLine().getOut().println("meshauth agent running on " + nodeName + "; required pairs: "
                    + agent.required().size());
            spec.commandLine().getOut().flush();
            stop.await();
        }
        return ExitCodes.OK;
    }
}
