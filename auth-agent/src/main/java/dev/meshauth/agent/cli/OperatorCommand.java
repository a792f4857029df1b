package dev.meshauth.agent.cli;

import dev.meshauth.agent.k8s.RelistGrace;
import dev.meshauth.agent.operator.EntryOperator;
import dev.meshauth.agent.operator.PlacementSources;
import dev.meshauth.agent.operator.SpireServerConnection;
import dev.meshauth.spire.entry.EntryLayout;
import dev.meshauth.spire.entry.EntryRegistrar;
import dev.meshauth.spire.entry.NodeRef;
import dev.meshauth.spire.entry.ParentTemplate;
import dev.meshauth.spire.entry.ReconcileResult;
import dev.meshauth.spire.entry.Registration;
import dev.meshauth.spire.entry.RegistrationSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.StatusRuntimeException;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Callable;

/**
 * {@code meshauth operator}: SPIRE entries for security identities, by default one per identity per node
 * hosting an endpoint of it (least privilege), or Cilium's one per identity for every node. From Kubernetes
 * (CiliumEndpoint and CiliumNode objects; CiliumIdentity objects for the cluster-wide layout), or standalone
 * from an endpoints file; {@code --once} reconciles and exits.
 */
@Command(name = "operator", mixinStandardHelpOptions = true,
        description = "Register SPIRE entries for security identities (spiffe://<td>/identity/<n>): one per identity per"
                + " node hosting it (--registration node), or one per identity for every node (--registration cluster,"
                + " Cilium's layout); remove stale ones.")
public final class OperatorCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--spire-server-socket", paramLabel = "PATH",
            description = "The SPIRE server's API socket (Entry API), when the operator runs beside the server.")
    Path serverSocket;

    @Option(names = "--spire-server-address", paramLabel = "HOST:PORT",
            description = "The SPIRE server's API over TCP with mutual TLS (as Cilium's operator): this operator's SVID comes"
                    + " from --spire-agent-socket and its SPIFFE ID must be in the server's admin_ids.")
    String serverAddress;

    @Option(names = "--spire-agent-socket", paramLabel = "PATH", defaultValue = "/run/spire/sockets/agent/agent.sock",
            description = "Workload API socket for this operator's own SVID, with --spire-server-address."
                    + " Default: ${DEFAULT-VALUE}.")
    Path agentSocket;

    @Option(names = "--spire-server-id", paramLabel = "SPIFFE_ID",
            description = "The SPIRE server's SPIFFE ID (default: spiffe://<trust domain>/spire/server).")
    String serverId;

    @Option(names = "--mesh-auth-spiffe-trust-domain", defaultValue = "spiffe.cilium",
            description = "Trust domain (default: ${DEFAULT-VALUE}).")
    String trustDomain;

    @Option(names = "--endpoints", paramLabel = "FILE", description = "Standalone: register the identities of this endpoints file.")
    Path endpoints;

    @Option(names = "--identities-file", paramLabel = "FILE",
            description = "Standalone: where identities allocated from labels persist (shared with the agents).")
    Path identitiesFile;

    @Option(names = "--kubeconfig", paramLabel = "FILE", description = "Kubernetes: watch CiliumIdentity objects.")
    Path kubeconfig;

    @Option(names = "--kubernetes", description = "Kubernetes with the in-cluster service account (or $KUBECONFIG).")
    boolean kubernetes;

    @Option(names = "--log-format", paramLabel = "text|json", defaultValue = "text",
            description = "Log lines as text or as one JSON object each. Default: ${DEFAULT-VALUE}.")
    LogFormat logFormat;

    @Option(names = "--k8s-relist-grace", defaultValue = "1m0s",
            description = "How long a CiliumIdentity that a relist no longer lists is kept before its SPIRE entry is removed"
                    + " (a watch event deleting it applies at once). Default: ${DEFAULT-VALUE}.")
    Duration relistGrace;

    @Option(names = "--once", description = "Reconcile once and exit: 0 if every entry is as desired, 1 otherwise.")
    boolean once;

    @Option(names = "--resync", defaultValue = "1m0s", description = "Full reconcile interval (default: ${DEFAULT-VALUE}).")
    Duration resync;

    @Option(names = "--registration", paramLabel = "node|cluster", defaultValue = "node",
            description = "node: one entry per identity per node hosting an endpoint of it, parented to that node"
                    + " (--node-parent-template): a node's SPIRE agent issues only the keys of identities it hosts, and"
                    + " the cluster-wide entries of these identities are removed. cluster: one entry per identity under"
                    + " --cluster-parent, which every SPIRE agent is aliased to, as Cilium's operator does (every node holds"
                    + " every key). Default: ${DEFAULT-VALUE}.")
    String registration;

    @Option(names = "--node-parent-template", paramLabel = "TEMPLATE",
            description = "The parent ID of a node's entries, over {trustDomain}, {nodeName}, {nodeUID} and {clusterName}."
                    + " Default: " + ParentTemplate.K8S_PSAT + " (the k8s_psat agent ID) with Kubernetes, "
                    + ParentTemplate.NODE_ALIAS + " (a join-token agent's alias) with --endpoints.")
    String nodeParentTemplate;

    @Option(names = "--cluster-name", defaultValue = "default",
            description = "{clusterName} in the template: the k8s_psat attestor's cluster. Default: ${DEFAULT-VALUE}.")
    String clusterName;

    @Option(names = "--cluster-parent", paramLabel = "SPIFFE_ID",
            description = "The parent of the cluster-wide layout's entries (default: spiffe://<trust domain>/cilium-operator,"
                    + " Cilium's).")
    String clusterParent;

    @Option(names = "--entry-grace", defaultValue = "1m0s",
            description = "With --registration node: how long a node keeps an identity's entry after the last endpoint of"
                    + " that identity left it, so a restarting pod keeps its SVID. Default: ${DEFAULT-VALUE}.")
    Duration entryGrace;

    @Override
    public Integer call() throws Exception {
        boolean k8s = kubeconfig != null || kubernetes;
        if ((endpoints == null) == !k8s || (kubeconfig != null && kubernetes)) {
            throw new IllegalArgumentException("give exactly one source of identities: --endpoints FILE, --kubeconfig FILE"
                    + " or --kubernetes (in-cluster)");
        }
        if ((serverSocket == null) == (serverAddress == null)) {
            throw new IllegalArgumentException("give exactly one way to the SPIRE server: --spire-server-socket PATH or"
                    + " --spire-server-address HOST:PORT");
        }
        if (entryGrace.isNegative()) {
            throw new IllegalArgumentException("--entry-grace must not be negative, got " + entryGrace);
        }
        Logging.use(logFormat);
        TrustDomain td = TrustDomain.parse(trustDomain);
        EntryLayout layout = layout(td, k8s);
        try (SpireServerConnection server = serverSocket != null ? SpireServerConnection.socket(serverSocket)
                : SpireServerConnection.tcp(serverAddress, agentSocket, td, serverId)) {
            this.server = server;
            EntryRegistrar registrar = new EntryRegistrar(dev.meshauth.spire.entry.EntryRegistrarStubs.blocking(server.channel()),
                    RegistrationSpec.ciliumDefaults(td), layout);
            return endpoints != null ? standalone(registrar) : kubernetes(registrar);
        }
    }

    private EntryLayout layout(TrustDomain td, boolean k8s) {
        SpiffeId cluster;
        try {
            cluster = clusterParent == null ? RegistrationSpec.ciliumOperator(td) : SpiffeId.parse(clusterParent);
        } catch (io.spiffe.exception.InvalidSpiffeIdException | IllegalArgumentException e) {
            throw new IllegalArgumentException("--cluster-parent " + clusterParent + " is not a SPIFFE ID: " + e.getMessage());
        }
        if (!cluster.getTrustDomain().equals(td)) {
            throw new IllegalArgumentException("--cluster-parent " + cluster + " is outside trust domain " + td.getName());
        }
        return switch (registration) {
            case "cluster" -> new EntryLayout.ClusterWide(cluster);
            case "node" -> {
                String template = nodeParentTemplate != null ? nodeParentTemplate
                        : k8s ? ParentTemplate.K8S_PSAT : ParentTemplate.NODE_ALIAS;
                ParentTemplate t = new ParentTemplate(template, td, clusterName);
                if (!k8s && t.needsUid()) {
                    throw new IllegalArgumentException("--node-parent-template " + template + " needs node UIDs ({nodeUID}),"
                            + " which an endpoints file does not give; use {nodeName}");
                }
                yield new EntryLayout.NodeScoped(t, cluster);
            }
            default -> throw new IllegalArgumentException("--registration must be node or cluster, got '" + registration + "'");
        };
    }

    private SpireServerConnection server;

    private int standalone(EntryRegistrar registrar) throws Exception {
        if (!once) {
            // Long-running: the endpoints file is read again at every --resync; a node's entries outlive its last
            // endpoint of an identity by --entry-grace. Until SIGTERM or SIGINT.
            StopSignal stop = StopSignal.install("operator");
            try (EntryOperator op = EntryOperator.start(changed -> PlacementSources.endpointsFile(endpoints,
                    Optional.ofNullable(identitiesFile)), registrar, grace(registrar), InstantSource.system(), resync)) {
                stop.await();
                return ExitCodes.OK;
            } finally {
                stop.done();
            }
        }
        Map<Long, Set<NodeRef>> hosts = PlacementSources.readHosts(endpoints, Optional.ofNullable(identitiesFile));
        Set<Registration> wanted = registrar.layout().registrations(hosts);
        ReconcileResult r;
        try {
            r = registrar.reconcile(wanted); // once: exactly the file's placement, no grace (nothing remembers it)
        } catch (StatusRuntimeException e) {
            spec.commandLine().getErr().println("meshauth: " + server.explain(e));
            return ExitCodes.FAILURE;
        }
        spec.commandLine().getOut().printf("identities=%d created=%d updated=%d deleted=%d unchanged=%d failures=%d entries=%d"
                        + " registration=%s%n", hosts.size(), r.created(), r.updated(), r.deleted(), r.unchanged(),
                r.failures().size(), wanted.size(), registration);
        r.failures().forEach(f -> spec.commandLine().getErr().println("meshauth: " + f));
        spec.commandLine().getOut().flush();
        return r.failures().isEmpty() ? ExitCodes.OK : ExitCodes.FAILURE;
    }

    private Duration grace(EntryRegistrar registrar) {
        return registrar.layout() instanceof EntryLayout.NodeScoped ? entryGrace : Duration.ZERO;
    }

    private int kubernetes(EntryRegistrar registrar) throws InterruptedException, java.io.IOException {
        ScheduledExecutorService graceTimer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("meshauth-relist-grace").factory());
        RelistGrace relist = new RelistGrace(once ? Duration.ZERO : relistGrace, graceTimer);
        boolean byNode = registrar.layout() instanceof EntryLayout.NodeScoped;
        try (java.io.Closeable stopTimer = graceTimer::shutdownNow;
                KubernetesClient client = dev.meshauth.agent.k8s.KubeClients.create(Optional.ofNullable(kubeconfig));
                EntryOperator op = EntryOperator.start(changed -> byNode
                                ? PlacementSources.ciliumEndpoints(client, resync, relist, changed)
                                : PlacementSources.ciliumIdentities(client, resync, relist, changed),
                        registrar, once ? Duration.ZERO : grace(registrar), InstantSource.system(), resync)) {
            if (once) {
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (op.lastResult() == null && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                ReconcileResult r = op.lastResult();
                if (r == null) {
                    spec.commandLine().getErr().println("meshauth: no reconcile within 60 s (are the "
                            + (byNode ? "CiliumEndpoint and CiliumNode" : "CiliumIdentity") + " informers synced?)");
                    return ExitCodes.FAILURE;
                }
                return r.failures().isEmpty() ? ExitCodes.OK : ExitCodes.FAILURE;
            }
            StopSignal stop = StopSignal.install("operator");
            try {
                stop.await();
            } finally {
                stop.done();
            }
            return ExitCodes.OK;
        }
    }
}
