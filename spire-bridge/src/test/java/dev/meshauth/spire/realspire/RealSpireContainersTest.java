package dev.meshauth.spire.realspire;

import dev.meshauth.spire.delegated.DelegatedIdentityClient;
import dev.meshauth.spire.delegated.DelegatedIdentityOptions;
import dev.meshauth.spire.entry.EntryRegistrar;
import dev.meshauth.spire.entry.ReconcileResult;
import dev.meshauth.spire.entry.EntryLayout;
import dev.meshauth.spire.entry.RegistrationSpec;
import dev.meshauth.spire.grpc.UnixSockets;
import io.grpc.ManagedChannel;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.testcontainers.containers.GenericContainer;
import org.testcontainers.containers.Network;
import org.testcontainers.containers.wait.strategy.Wait;
import org.testcontainers.junit.jupiter.Testcontainers;
import org.testcontainers.utility.DockerImageName;
import spire.api.server.entry.v1.EntryGrpc;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Our clients against the real {@code spire-server} and {@code spire-agent} images: the same code that
 * runs against the dev server. Needs a Docker engine; without one JUnit reports these tests as skipped
 * (this machine and CI have none, so the dev-server tests are the proof there).
 *
 * <p>Sockets are shared through bind-mounted host directories; the agent runs in the host PID
 * namespace so its unix workload attestor can attest this test process as the authorized delegate.
 */
@Testcontainers(disabledWithoutDocker = true)
class RealSpireContainersTest {
    private static final String IMAGE_VERSION = "1.12.4";
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    private static Path dir;
    private static Network network;
    private static GenericContainer<?> server;
    private static GenericContainer<?> agent;

    @BeforeAll
    static void start() throws Exception {
        dir = Files.createTempDirectory("meshauth-real-spire");
        for (String d : new String[] {"server", "agent", "admin"}) {
            Files.createDirectories(dir.resolve(d), PosixFilePermissions.asFileAttribute(PosixFilePermissions.fromString("rwxrwxrwx")));
        }
        network = Network.newNetwork();
        Files.writeString(dir.resolve("server.conf"), """
                server {
                  bind_address = "0.0.0.0"
                  bind_port = "8081"
                  socket_path = "/sockets/server/api.sock"
                  trust_domain = "spiffe.cilium"
                  data_dir = "/tmp/data"
                  log_level = "INFO"
                  ca_key_type = "ec-p256"
                }
                plugins {
                  DataStore "sql" { plugin_data { database_type = "sqlite3" connection_string = "/tmp/data/datastore.sqlite3" } }
                  NodeAttestor "join_token" { plugin_data {} }
                  KeyManager "memory" { plugin_data {} }
                }
                """);
        server = new GenericContainer<>(DockerImageName.parse("ghcr.io/spiffe/spire-server:" + IMAGE_VERSION))
                .withNetwork(network).withNetworkAliases("spire-server")
                .withFileSystemBind(dir.toString(), "/sockets")
                .withCommand("-config", "/sockets/server.conf")
                .waitingFor(Wait.forLogMessage(".*Starting Server APIs.*", 1).withStartupTimeout(Duration.ofSeconds(60)));
        server.start();
        String token = server.execInContainer("/opt/spire/bin/spire-server", "token", "generate",
                "-socketPath", "/sockets/server/api.sock", "-spiffeID", "spiffe://spiffe.cilium/node").getStdout()
                .replace("Token:", "").strip();
        long uid = (Integer) Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        server.execInContainer("/opt/spire/bin/spire-server", "entry", "create", "-socketPath", "/sockets/server/api.sock",
                "-parentID", "spiffe://spiffe.cilium/node", "-spiffeID", "spiffe://spiffe.cilium/meshauth-agent",
                "-selector", "unix:uid:" + uid);
        Files.writeString(dir.resolve("agent.conf"), """
                agent {
                  data_dir = "/tmp/agent"
                  log_level = "INFO"
                  server_address = "spire-server"
                  server_port = "8081"
                  socket_path = "/sockets/agent/agent.sock"
                  admin_socket_path = "/sockets/admin/admin.sock"
                  authorized_delegates = ["spiffe://spiffe.cilium/meshauth-agent"]
                  trust_domain = "spiffe.cilium"
                  insecure_bootstrap = true
                  join_token = "%s"
                }
                plugins {
                  NodeAttestor "join_token" { plugin_data {} }
                  KeyManager "memory" { plugin_data {} }
                  WorkloadAttestor "unix" { plugin_data {} }
                }
                """.formatted(token));
        agent = new GenericContainer<>(DockerImageName.parse("ghcr.io/spiffe/spire-agent:" + IMAGE_VERSION))
                .withNetwork(network)
                .withFileSystemBind(dir.toString(), "/sockets")
                .withCreateContainerCmdModifier(cmd -> cmd.getHostConfig().withPidMode("host"))
                .withCommand("-config", "/sockets/agent.conf")
                .waitingFor(Wait.forLogMessage(".*Starting Workload and SDS APIs.*", 1).withStartupTimeout(Duration.ofSeconds(60)));
        agent.start();
    }

    @AfterAll
    static void stop() {
        if (agent != null) {
            agent.stop();
        }
        if (server != null) {
            server.stop();
        }
        if (network != null) {
            network.close();
        }
    }

    @Test
    void registrarReconcilesAgainstTheRealEntryApi() {
        ManagedChannel ch = UnixSockets.channel(dir.resolve("server/api.sock"), 32 << 20);
        try {
            EntryRegistrar r = new EntryRegistrar(EntryGrpc.newBlockingStub(ch),
                    new RegistrationSpec(TD, DelegatedIdentityOptions.MUTUAL_AUTH, 0),
                    new EntryLayout.ClusterWide(io.spiffe.spiffeid.SpiffeId.parse("spiffe://spiffe.cilium/node")));
            ReconcileResult first = r.reconcileIdentities(Set.of(1000L, 2000L));
            assertThat(first.created()).isEqualTo(2);
            assertThat(first.failures()).isEmpty();
            assertThat(r.reconcileIdentities(Set.of(1000L, 2000L)).calls()).isZero();
        } finally {
            ch.shutdownNow();
        }
    }

    @Test
    void delegatedIdentitySubscriptionReceivesIdentitySvids() throws Exception {
        ManagedChannel ch = UnixSockets.channel(dir.resolve("server/api.sock"), 32 << 20);
        try (DelegatedIdentityClient client = DelegatedIdentityClient.start(
                DelegatedIdentityOptions.defaults(dir.resolve("admin/admin.sock"), TD), InstantSource.system(), e -> { })) {
            new EntryRegistrar(EntryGrpc.newBlockingStub(ch), new RegistrationSpec(TD, DelegatedIdentityOptions.MUTUAL_AUTH, 0),
                    new EntryLayout.ClusterWide(io.spiffe.spiffeid.SpiffeId.parse("spiffe://spiffe.cilium/node")))
                    .reconcileIdentities(Set.of(3000L));
            long deadline = System.nanoTime() + Duration.ofSeconds(30).toNanos(); // SPIRE agents sync every ~5 s
            while (System.nanoTime() < deadline && client.svid(3000).isEmpty()) {
                Thread.sleep(200);
            }
            assertThat(client.svid(3000)).isPresent();
        } finally {
            ch.shutdownNow();
        }
    }
}
