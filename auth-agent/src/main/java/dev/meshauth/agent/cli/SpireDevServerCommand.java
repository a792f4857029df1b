package dev.meshauth.agent.cli;

import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.OptionalLong;
import java.util.concurrent.Callable;

/** {@code meshauth spire dev-server}: runs the embedded SPIRE-compatible server until interrupted. */
@Command(name = "dev-server", mixinStandardHelpOptions = true,
        description = {"Serve the SPIFFE Workload API, SPIRE's Delegated Identity API and SPIRE's Entry API on Unix"
                + " sockets, with a local CA. For development and tests only."})
public final class SpireDevServerCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Option(names = "--trust-domain", defaultValue = "spiffe.cilium", description = "Trust domain (default: ${DEFAULT-VALUE}).")
    String trustDomain;

    @Option(names = "--workload-socket", defaultValue = "/run/meshauth-dev-spire/workload/agent.sock",
            description = "Workload API socket (default: ${DEFAULT-VALUE}).")
    Path workloadSocket;

    @Option(names = "--admin-socket", defaultValue = "/run/meshauth-dev-spire/admin/admin.sock",
            description = "Delegated Identity API socket; not in the workload socket's directory (default: ${DEFAULT-VALUE}).")
    Path adminSocket;

    @Option(names = "--server-socket", defaultValue = "/run/meshauth-dev-spire/server/api.sock",
            description = "Entry API socket (default: ${DEFAULT-VALUE}).")
    Path serverSocket;

    @Option(names = "--svid-ttl", defaultValue = "1h0m0s", description = "X509-SVID lifetime, a Go duration (1h, 30m) or ISO-8601 (default: ${DEFAULT-VALUE});"
            + " SVIDs rotate at half of it.")
    Duration svidTtl;

    @Option(names = "--data-dir", description = "Persist the CA and entries here, so a restart keeps them.")
    Path dataDir;

    @Option(names = "--authorized-delegate", paramLabel = "SPIFFE_ID",
            description = "SPIRE's authorized_delegates: a SPIFFE ID whose workloads may use the Delegated Identity API;"
                    + " repeatable (default: spiffe://<trust domain>/meshauth-agent). Callers are attested by their peer"
                    + " credentials, as SPIRE's unix workload attestor does.")
    List<String> delegates = new ArrayList<>();

    @Option(names = "--delegate-uid", paramLabel = "UID|none",
            description = "Register each authorized delegate for this uid (selector unix:uid:UID) at start, as you would"
                    + " with spire-server entry create; 'none' registers nothing (default: this process's uid).")
    String delegateUid;

    @Option(names = "--server-address", paramLabel = "HOST:PORT",
            description = "Also serve the Entry API over TCP with mutual TLS (SPIRE's port 8081), for --admin-id callers.")
    String serverAddress;

    @Option(names = "--admin-id", paramLabel = "SPIFFE_ID", description = "A SPIFFE ID allowed to call the Entry API over TCP"
            + " (SPIRE's admin_ids); repeatable.")
    List<String> adminIds = new ArrayList<>();

    @Override
    public Integer call() throws IOException, InterruptedException {
        TrustDomain td = TrustDomain.parse(trustDomain);
        List<SpiffeId> authorized = new ArrayList<>();
        for (String d : delegates) {
            authorized.add(SpiffeId.parse(d));
        }
        if (authorized.isEmpty()) {
            authorized.add(DevServerConfig.meshauthAgent(td));
        }
        OptionalLong uid;
        if (delegateUid == null) {
            uid = OptionalLong.of(dev.meshauth.spire.UnixSelectors.currentUid());
        } else if (delegateUid.equals("none")) {
            uid = OptionalLong.empty();
        } else {
            try {
                uid = OptionalLong.of(Long.parseUnsignedLong(delegateUid));
            } catch (NumberFormatException e) {
                throw new picocli.CommandLine.ParameterException(spec.commandLine(),
                        "--delegate-uid must be a uid or none, got '" + delegateUid + "'");
            }
        }
        DevServerConfig config = new DevServerConfig(td, workloadSocket, adminSocket, serverSocket, svidTtl,
                Optional.ofNullable(dataDir), authorized, uid, 32 << 20);
        StopSignal stop = StopSignal.install("spire dev-server");
        try (DevServer server = DevServer.start(config, InstantSource.system())) {
            if (serverAddress != null) {
                int colon = serverAddress.lastIndexOf(':');
                if (colon <= 0) {
                    throw new IllegalArgumentException("--server-address must be HOST:PORT, got '" + serverAddress + "'");
                }
                java.util.Set<io.spiffe.spiffeid.SpiffeId> admins = new java.util.HashSet<>();
                for (String a : adminIds) {
                    admins.add(io.spiffe.spiffeid.SpiffeId.parse(a));
                }
                int port = server.serveTcp(new java.net.InetSocketAddress(serverAddress.substring(0, colon),
                        Integer.parseInt(serverAddress.substring(colon + 1))), admins);
                spec.commandLine().getOut().printf("  server API over mTLS: %s:%d, admin ids %s%n", serverAddress.substring(0, colon),
                        port, admins);
            }
            spec.commandLine().getOut().printf("dev SPIRE serving trust domain %s%n  workload: %s%n  admin:    %s%n  server:   %s%n",
                    td.getName(), workloadSocket, adminSocket, serverSocket);
            spec.commandLine().getOut().flush();
            stop.await();
        } finally {
            stop.done();
        }
        spec.commandLine().getOut().println("dev SPIRE stopped");
        spec.commandLine().getOut().flush();
        return ExitCodes.OK;
    }
}
