package dev.meshauth.agent.cli;

import dev.meshauth.agent.k8s.RelistGrace;
import dev.meshauth.agent.operator.IdentityOperator;
import dev.meshauth.agent.operator.SpireServerConnection;
import dev.meshauth.policy.PolicyException;
import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.endpoint.EndpointsFile;
import dev.meshauth.policy.endpoint.IdentityAllocator;
import dev.meshauth.policy.endpoint.ReservedIdentity;
import dev.meshauth.agent.k8s.IdentityWatch;
import dev.meshauth.spire.entry.EntryRegistrar;
import dev.meshauth.spire.entry.ReconcileResult;
import dev.meshauth.spire.entry.RegistrationSpec;
import io.fabric8.kubernetes.client.KubernetesClient;
import io.grpc.StatusRuntimeException;
import io.spiffe.spiffeid.TrustDomain;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.Callable;

/**
 * {@code meshauth operator}: one SPIRE entry per security identity. From Kubernetes (CiliumIdentity
 * objects), or standalone from an endpoints file; {@code --once} reconciles and exits.
 */
@Command(name = "operator", mixinStandardHelpOptions = true,
        description = "Register one SPIRE entry per security identity (spiffe://<td>/identity/<n>) and remove stale ones.")
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
        Logging.use(logFormat);
        TrustDomain td = TrustDomain.parse(trustDomain);
        try (SpireServerConnection server = serverSocket != null ? SpireServerConnection.socket(serverSocket)
                : SpireServerConnection.tcp(serverAddress, agentSocket, td, serverId)) {
            this.server = server;
            EntryRegistrar registrar = new EntryRegistrar(dev.meshauth.spire.entry.EntryRegistrarStubs.blocking(server.channel()),
                    RegistrationSpec.ciliumDefaults(td));
            return endpoints != null ? standalone(registrar) : kubernetes(registrar);
        }
    }

    private SpireServerConnection server;

    private int standalone(EntryRegistrar registrar) throws Exception {
        Set<Long> ids = identitiesFrom(endpoints);
        ReconcileResult r;
        try {
            r = registrar.reconcile(ids);
        } catch (StatusRuntimeException e) {
            spec.commandLine().getErr().println("meshauth: " + server.explain(e));
            return ExitCodes.FAILURE;
        }
        spec.commandLine().getOut().printf("identities=%d created=%d updated=%d deleted=%d unchanged=%d failures=%d%n",
                ids.size(), r.created(), r.updated(), r.deleted(), r.unchanged(), r.failures().size());
        r.failures().forEach(f -> spec.commandLine().getErr().println("meshauth: " + f));
        spec.commandLine().getOut().flush();
        if (once) {
            return r.failures().isEmpty() ? ExitCodes.OK : ExitCodes.FAILURE;
        }
        // Standalone, long-running: re-read the file and reconcile every --resync, until SIGTERM or SIGINT.
        StopSignal stop = StopSignal.install("operator");
        try {
            while (!stop.await(resync)) {
                try {
                    registrar.reconcile(identitiesFrom(endpoints));
                } catch (StatusRuntimeException e) {
                    spec.commandLine().getErr().println("meshauth: reconcile skipped: " + server.explain(e));
                } catch (PolicyException e) {
                    spec.commandLine().getErr().println("meshauth: reconcile skipped: " + e.getMessage());
                }
            }
            return ExitCodes.OK;
        } finally {
            stop.done();
        }
    }

    private Set<Long> identitiesFrom(Path file) throws Exception {
        IdentityAllocator alloc = new IdentityAllocator(Optional.ofNullable(identitiesFile));
        EndpointsFile.Contents c = EndpointsFile.parse(file.toString(), dev.meshauth.agent.node.source.SourceFiles.read("endpoints file", file), alloc);
        Set<Long> ids = new TreeSet<>();
        for (Endpoint e : c.endpoints()) {
            if (!ReservedIdentity.isReserved(e.identity())) {
                ids.add(e.identity());
            }
        }
        return ids;
    }

    private int kubernetes(EntryRegistrar registrar) throws InterruptedException, java.io.IOException {
        ScheduledExecutorService graceTimer = Executors.newSingleThreadScheduledExecutor(
                Thread.ofPlatform().daemon().name("meshauth-relist-grace").factory());
        RelistGrace grace = new RelistGrace(once ? Duration.ZERO : relistGrace, graceTimer);
        try (java.io.Closeable stopTimer = graceTimer::shutdownNow;
                KubernetesClient client = dev.meshauth.agent.k8s.KubeClients.create(Optional.ofNullable(kubeconfig));
                IdentityOperator op = IdentityOperator.start(l -> IdentityWatch.start(client, resync, grace, l), registrar,
                        resync)) {
            if (once) {
                long deadline = System.nanoTime() + Duration.ofSeconds(60).toNanos();
                while (op.lastResult() == null && System.nanoTime() < deadline) {
                    Thread.sleep(100);
                }
                ReconcileResult r = op.lastResult();
                if (r == null) {
                    spec.commandLine().getErr().println("meshauth: no reconcile within 60 s (CiliumIdentity informer not synced?)");
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
