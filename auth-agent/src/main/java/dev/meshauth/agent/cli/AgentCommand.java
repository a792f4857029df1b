package dev.meshauth.agent.cli;

import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.node.Agent;
import dev.meshauth.agent.node.AgentConfig;
import dev.meshauth.agent.node.DatapathMode;
import dev.meshauth.agent.node.source.SourceConfig;
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

/**
 * {@code meshauth agent}: the node agent. Flag names follow Cilium's where Cilium has one. Nodes,
 * endpoints and policies come from files ({@code --endpoints}, {@code --policies}) or from Kubernetes
 * ({@code --kubeconfig} or {@code --kubernetes}), independently of the datapath fed. Every flag may also be
 * given in a YAML {@code --config} file (keys: the long names without dashes); flags win.
 */
@Command(name = "agent", mixinStandardHelpOptions = true,
        description = "Run the node agent: authenticate identity pairs with the other nodes' agents and fill the auth map.")
public final class AgentCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--config", paramLabel = "FILE",
            description = "YAML file of settings (keys: these options' long names without dashes); flags win.")
    Path config;

    @Option(names = "--node-name", description = "The node (of the endpoints file, or CiliumNode name) this agent serves.")
    String nodeName;

    @Option(names = "--endpoints", paramLabel = "FILE", description = "Standalone source: nodes and endpoints (watched).")
    Path endpoints;

    @Option(names = "--policies", split = ",", paramLabel = "PATH",
            description = "Standalone source: CiliumNetworkPolicy files or directories (watched).")
    List<Path> policies;

    @Option(names = "--identities-file", paramLabel = "FILE", description = "Label-allocated identities (shared with the operator).")
    Path identitiesFile;

    @Option(names = "--kubeconfig", paramLabel = "FILE",
            description = "Kubernetes source: watch CiliumNode, CiliumEndpoint, CiliumIdentity and Cilium policies.")
    Path kubeconfig;

    @Option(names = "--kubernetes", description = "Kubernetes source with the in-cluster service account (or $KUBECONFIG).")
    boolean kubernetes;

    @Option(names = "--mesh-auth-enabled", defaultValue = "true", arity = "0..1", fallbackValue = "true",
            description = "Cilium's switch for mutual auth; false makes the agent exit at once. Default: ${DEFAULT-VALUE}.")
    boolean enabled;

    @Option(names = "--mesh-auth-spire-admin-socket", paramLabel = "PATH",
            defaultValue = "/run/spire/sockets/admin.sock",
            description = "The SPIRE agent's admin socket (Delegated Identity API). Default: ${DEFAULT-VALUE}.")
    Path adminSocket;

    @Option(names = "--mesh-auth-spiffe-trust-domain", defaultValue = "spiffe.cilium", description = "Default: ${DEFAULT-VALUE}.")
    String trustDomain;

    @Option(names = "--mesh-auth-mutual-listener-port", defaultValue = "4250", description = "Default: ${DEFAULT-VALUE}.")
    int port;

    @Option(names = "--mesh-auth-mutual-listen-address", paramLabel = "ADDRESS", defaultValue = "",
            description = "Address the mutual auth listener binds; empty (the default): every address, IPv4 and IPv6, as"
                    + " Cilium's listener does, so peers may dial any address they know for this node.")
    String listenAddress;

    @Option(names = "--mesh-auth-mutual-connect-timeout", defaultValue = "5s", description = "Default: ${DEFAULT-VALUE}.")
    Duration connectTimeout;

    @Option(names = "--mesh-auth-queue-size", defaultValue = "1024", description = "Default: ${DEFAULT-VALUE}.")
    int queueSize;

    @Option(names = "--mesh-auth-gc-interval", defaultValue = "5m0s", description = "Default: ${DEFAULT-VALUE}.")
    Duration gcInterval;

    @Option(names = "--mesh-auth-signal-backoff-duration", defaultValue = "1s", description = "Default: ${DEFAULT-VALUE}.")
    Duration signalBackoff;

    @Option(names = "--datapath", paramLabel = "cilium|standalone|memory", defaultValue = "cilium",
            description = "cilium: fill the pinned auth map for Cilium's datapath; standalone: also load meshauth's own"
                    + " enforcement program on this node's endpoints and consume its signals; memory: no kernel"
                    + " (development). Default: ${DEFAULT-VALUE}.")
    DatapathMode datapath;

    @Option(names = "--auth-map", description = "Pin path of the auth map (default: ${DEFAULT-VALUE}).")
    Path authMap = AuthMapLayout.DEFAULT_PIN_PATH;

    @Option(names = "--node-ids", paramLabel = "cilium|source", defaultValue = "auto",
            description = "Where the remote node ids in auth keys come from: cilium (Cilium's node map, as Cilium's datapath"
                    + " computes them; the default with --datapath cilium) or source (the endpoints file or CiliumNode order;"
                    + " the default otherwise).")
    NodeIdSource nodeIds;

    @Option(names = "--cilium-node-map", paramLabel = "PATH", defaultValue = "/sys/fs/bpf/tc/globals/cilium_node_map_v2",
            description = "Cilium's pinned node map (read-only). Default: ${DEFAULT-VALUE}.")
    Path ciliumNodeMap;

    @Option(names = "--mesh-auth-proactive", defaultValue = "true", arity = "0..1", fallbackValue = "true",
            description = "Authenticate the pairs policies require before any traffic (no first-packet drop); false"
                    + " authenticates only on the datapath's auth-required signal, as Cilium does. Default: ${DEFAULT-VALUE}.")
    boolean proactive;

    @Option(names = "--status-socket", paramLabel = "PATH|off", defaultValue = AgentSocket.DEFAULT,
            description = "Unix socket of the local status API (mode 0660), read by meshauth status/certs/observe/check;"
                    + " 'off' disables. Default: ${DEFAULT-VALUE}.")
    String statusSocket;

    @Option(names = "--metrics-address", paramLabel = "HOST:PORT|off", defaultValue = "127.0.0.1:9964",
            description = "Prometheus /metrics, /healthz and /readyz; 'off' disables. Default: ${DEFAULT-VALUE}.")
    String metricsAddress;

    @Option(names = "--log-format", paramLabel = "text|json", defaultValue = "text",
            description = "Log lines as text or as one JSON object each. Default: ${DEFAULT-VALUE}.")
    LogFormat logFormat;

    @Option(names = "--node-ids-file", paramLabel = "PATH|off", defaultValue = "/var/run/meshauth/node-ids",
            description = "Kubernetes source: where this agent's numbering of nodes (the remote node ids of meshauth's own"
                    + " datapath) persists across restarts, as long as the pinned auth map does; 'off' keeps it in memory."
                    + " Default: ${DEFAULT-VALUE}.")
    String nodeIdsFile;

    @Option(names = "--bpf-policy-map-max", defaultValue = "16384", description = "Entries of the standalone datapath's"
            + " policy map (a port range takes a few, not one per port); a policy set that needs more on this node is"
            + " refused and reported by meshauth status. Default: ${DEFAULT-VALUE}.")
    int policyMapMax;

    @Option(names = "--bpf-ct-global-max", defaultValue = "262144", description = "Connections the standalone datapath"
            + " tracks (one LRU map for every protocol; Cilium splits it into --bpf-ct-global-tcp-max and"
            + " --bpf-ct-global-any-max). Default: ${DEFAULT-VALUE}.")
    int conntrackMax;

    @Option(names = "--bpf-ct-timeout-regular-tcp", defaultValue = "6h0m0s",
            description = "Timeout of an established TCP connection. Default: ${DEFAULT-VALUE}.")
    Duration ctTcp;

    @Option(names = "--bpf-ct-timeout-regular-tcp-syn", defaultValue = "1m0s",
            description = "Timeout of a TCP connection seen only as SYN. Default: ${DEFAULT-VALUE}.")
    Duration ctTcpSyn;

    @Option(names = "--bpf-ct-timeout-regular-tcp-fin", defaultValue = "10s",
            description = "Timeout of a TCP connection after FIN or RST. Default: ${DEFAULT-VALUE}.")
    Duration ctTcpFin;

    @Option(names = "--bpf-ct-timeout-regular-any", defaultValue = "1m0s",
            description = "Timeout of a non-TCP flow (UDP, SCTP, ICMP, other protocols). Default: ${DEFAULT-VALUE}.")
    Duration ctAny;

    @Option(names = "--policy-evaluation-budget", defaultValue = "10s", description = "How long one policy evaluation may"
            + " take; a policy set over it is refused (the last good policy stays) and meshauth status says so."
            + " Default: ${DEFAULT-VALUE}.")
    Duration evaluationBudget;

    @Option(names = "--mesh-auth-svid-wait", defaultValue = "10s", description = "At start, how long to wait for the"
            + " SPIRE agent to deliver the SVIDs of this node's identities before authenticating anyway (a pair whose"
            + " SVID is missing waits for it). Default: ${DEFAULT-VALUE}.")
    Duration svidWait;

    @Option(names = "--mesh-auth-hold-syn", defaultValue = "true", arity = "0..1", fallbackValue = "true",
            description = "With --datapath standalone: a TCP SYN dropped because its pair is not authenticated yet is"
                    + " handed to the agent and put back once the pair is, so the connection opens within the handshake's"
                    + " time; false leaves it dropped until TCP retransmits it (about 1 s), as Cilium does."
                    + " Default: ${DEFAULT-VALUE}.")
    boolean holdSyns;

    @Option(names = "--k8s-sync-timeout", defaultValue = "2m0s",
            description = "How long the Kubernetes informers may take to list everything at start. Default: ${DEFAULT-VALUE}.")
    Duration syncTimeout;

    @Option(names = "--k8s-relist-grace", defaultValue = "1m0s",
            description = "How long an object that a relist of the Kubernetes API no longer lists (after an outage or a"
                    + " watch that ended with 410 Gone) is kept before it is believed deleted; a watch event deleting it"
                    + " applies at once. Default: ${DEFAULT-VALUE}.")
    Duration relistGrace;

    @Override
    public Integer call() throws Exception {
        if (!enabled) {
            spec.commandLine().getOut().println("meshauth agent: --mesh-auth-enabled=false, nothing to do");
            return ExitCodes.OK;
        }
        AgentConfig config = config();
        Logging.use(logFormat);
        StopSignal stop = StopSignal.install("agent");
        try (Agent agent = Agent.start(config, InstantSource.system())) {
            spec.commandLine().getOut().println("meshauth agent running on " + nodeName + "; required pairs: "
                    + agent.required().size());
            spec.commandLine().getOut().flush();
            stop.await();
        } finally {
            stop.done();
        }
        spec.commandLine().getOut().println("meshauth agent stopped on " + nodeName);
        spec.commandLine().getOut().flush();
        return ExitCodes.OK;
    }

    /** The settings, checked; every problem names the flag (or config key) to fix. */
    AgentConfig config() {
        if (nodeName == null || nodeName.isBlank()) {
            throw usage("--node-name is required (or node-name in the --config file)");
        }
        Optional<Path> map = switch (datapath) {
            case CILIUM, STANDALONE -> Optional.of(authMap);
            case MEMORY -> Optional.empty();
        };
        AuthManagerOptions d = AuthManagerOptions.DEFAULTS;
        AuthManagerOptions opts = new AuthManagerOptions(queueSize, signalBackoff, d.workers(), d.retryMin(), d.retryMax(),
                d.refreshBefore(), proactive);
        Optional<Path> status = statusSocket.equals("off") ? Optional.empty() : Optional.of(Path.of(statusSocket));
        boolean fromCilium = switch (nodeIds) {
            case AUTO -> datapath == DatapathMode.CILIUM;
            case CILIUM -> true;
            case SOURCE -> false;
        };
        if (fromCilium && datapath == DatapathMode.STANDALONE) {
            throw usage("--node-ids cilium is for feeding Cilium's datapath; meshauth's own (--datapath standalone) uses the"
                    + " source's node ids");
        }
        AgentConfig.Tuning tuning;
        try {
            tuning = new AgentConfig.Tuning(policyMapMax, conntrackMax,
                    new dev.meshauth.bpf.datapath.ConntrackTimeouts(ctTcp, ctTcpSyn, ctTcpFin, ctAny), evaluationBudget,
                    svidWait, holdSyns);
        } catch (IllegalArgumentException e) {
            throw usage("--bpf-policy-map-max, --bpf-ct-global-max, --bpf-ct-timeout-* and --policy-evaluation-budget"
                    + " must be positive: " + e.getMessage());
        }
        return new AgentConfig(nodeName, source(), adminSocket, TrustDomain.parse(trustDomain), port, map,
                datapath == DatapathMode.STANDALONE, gcInterval, opts, connectTimeout, status, metrics(),
                fromCilium ? Optional.of(ciliumNodeMap) : Optional.empty(), tuning, listen());
    }

    private dev.meshauth.agent.node.ListenAddress listen() {
        String a = listenAddress.strip();
        if (a.isEmpty()) {
            return new dev.meshauth.agent.node.ListenAddress.AllAddresses();
        }
        if (!a.matches("[0-9.]+|[0-9a-fA-F:.]*:[0-9a-fA-F:.]*")) {
            throw usage("--mesh-auth-mutual-listen-address must be an IP address (or empty for every address), got '" + a
                    + "'");
        }
        return new dev.meshauth.agent.node.ListenAddress.Of(a);
    }

    private Optional<java.net.InetSocketAddress> metrics() {
        if (metricsAddress.equals("off")) {
            return Optional.empty();
        }
        int colon = metricsAddress.lastIndexOf(':');
        try {
            if (colon <= 0) {
                throw new NumberFormatException();
            }
            String host = metricsAddress.substring(0, colon).replace("[", "").replace("]", "");
            int p = Integer.parseInt(metricsAddress.substring(colon + 1));
            if (p < 0 || p > 65535) {
                throw new NumberFormatException();
            }
            return Optional.of(new java.net.InetSocketAddress(host, p));
        } catch (NumberFormatException e) {
            throw usage("--metrics-address must be HOST:PORT or off, got '" + metricsAddress + "'");
        }
    }

    private SourceConfig source() {
        boolean files = endpoints != null || (policies != null && !policies.isEmpty());
        boolean k8s = kubeconfig != null || kubernetes;
        if (files == k8s) {
            throw usage("give exactly one source: --endpoints FILE with --policies PATH (standalone), or --kubeconfig FILE"
                    + " / --kubernetes (cluster)");
        }
        if (files) {
            if (endpoints == null || policies == null || policies.isEmpty()) {
                throw usage("the standalone source needs both --endpoints FILE and --policies PATH");
            }
            return new SourceConfig.Files(endpoints, policies, Optional.ofNullable(identitiesFile));
        }
        return new SourceConfig.Kubernetes(Optional.ofNullable(kubeconfig), syncTimeout,
                nodeIdsFile.equals("off") ? Optional.empty() : Optional.of(Path.of(nodeIdsFile)), relistGrace);
    }

    private picocli.CommandLine.ParameterException usage(String message) {
        return new picocli.CommandLine.ParameterException(spec.commandLine(), message);
    }
}
