package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.events.GcReason;
import dev.meshauth.agent.cli.Main;
import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.node.source.SourceConfig;
import dev.meshauth.bpf.auth.AuthEntry;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.agent.k8s.CiliumResources;
import dev.meshauth.agent.k8s.MockKubernetes;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;

import static dev.meshauth.testing.Eventually.eventually;
import static dev.meshauth.agent.k8s.CiliumObjects.endpoint;
import static dev.meshauth.agent.k8s.CiliumObjects.starWarsPolicy;
import static dev.meshauth.agent.k8s.CiliumObjects.identity;
import static dev.meshauth.agent.k8s.CiliumObjects.ownedNode;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two agents whose nodes, endpoints, identities and policies come from the Kubernetes API (fabric8's
 * mock server in CRUD mode), registered by {@code meshauth operator --once --kubeconfig}, with real TLS
 * and the dev SPIRE server, over the in-memory map ({@code --datapath memory}: the source and the
 * datapath are independent choices). A policy deleted in the API garbage-collects its entry at once.
 */
class KubernetesAgentsTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");

    @RegisterExtension
    static final MockKubernetes api = new MockKubernetes();



    @Test
    void agentsFedByTheKubernetesApiAuthenticateAheadOfTrafficAndFollowPolicyDeletion(@TempDir Path dir) throws Exception {
        var c = api.client();
        c.genericKubernetesResources(CiliumResources.NODE).resource(ownedNode("node-1", "127.0.0.1", "uid-node-1")).create();
        c.genericKubernetesResources(CiliumResources.NODE).resource(ownedNode("node-2", "127.0.0.2", "uid-node-2")).create();
        var eps = c.genericKubernetesResources(CiliumResources.ENDPOINT).inNamespace("default");
        eps.resource(endpoint("deathstar", 1001, "198.18.1.10", "127.0.0.1", "k8s:org=empire", "k8s:class=deathstar")).create();
        eps.resource(endpoint("tiefighter", 1002, "198.18.2.20", "127.0.0.2", "k8s:org=empire", "k8s:class=tiefighter")).create();
        eps.resource(endpoint("xwing", 1003, "198.18.2.30", "127.0.0.2", "k8s:org=alliance", "k8s:class=xwing")).create();
        for (long id : new long[] {1001, 1002, 1003}) {
            c.genericKubernetesResources(CiliumResources.IDENTITY).resource(identity(Long.toString(id))).create();
        }
        c.genericKubernetesResources(CiliumResources.NETWORK_POLICY).inNamespace("default").resource(starWarsPolicy()).create();
        Path kubeconfig = api.writeKubeconfig(dir.resolve("kubeconfig"));

        DevServerConfig spireConfig = DevServerConfig.under(dir.resolve("spire"), TD);
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        try (DevServer spire = DevServer.start(spireConfig, InstantSource.system())) {
            assertThat(Main.run("operator", "--once", "--spire-server-socket", spireConfig.serverSocket().toString(),
                    "--kubeconfig", kubeconfig.toString())).isZero();
            AuthManagerOptions opts = new AuthManagerOptions(1024, Duration.ofSeconds(1), 4, Duration.ofMillis(100),
                    Duration.ofSeconds(2), Duration.ofMinutes(1));
            SourceConfig k8s = new SourceConfig.Kubernetes(Optional.of(kubeconfig), Duration.ofSeconds(30));
            AgentConfig node1 = new AgentConfig("node-1", k8s, spireConfig.adminSocket(), TD, port, Optional.empty(), false,
                    Duration.ofMinutes(5), opts, Duration.ofSeconds(5), Optional.empty(), Optional.empty());
            AgentConfig node2 = new AgentConfig("node-2", k8s, spireConfig.adminSocket(), TD, port, Optional.empty(), false,
                    Duration.ofMinutes(5), opts, Duration.ofSeconds(5), Optional.empty(), Optional.empty());
            try (Agent a1 = Agent.start(node1, InstantSource.system()); Agent a2 = Agent.start(node2, InstantSource.system())) {
                assertThat(a1.required()).singleElement().satisfies(k -> {
                    assertThat(k.localIdentity()).isEqualTo(1001);
                    assertThat(k.remoteIdentity()).isEqualTo(1002);
                    assertThat(k.authType()).isEqualTo(AuthType.SPIRE);
                });
                assertThat(a2.required()).isEmpty();
                eventually("entries(a1).size() == 1", Duration.ofSeconds(15), () -> entries(a1).size() == 1);
                assertThat(entries(a1).getFirst().key()).isEqualTo(a1.required().iterator().next());
                assertThat(entries(a2)).isEmpty();
                assertThat(a2.handshakesAccepted()).isEqualTo(1);

                c.genericKubernetesResources(CiliumResources.NETWORK_POLICY).inNamespace("default").withName("rule1").delete();
                eventually("entries(a1).isEmpty()", Duration.ofSeconds(15), () -> entries(a1).isEmpty());
                assertThat(a1.required()).isEmpty();
                assertThat(a1.events().recent()).filteredOn(e -> e instanceof AuthEvent.EntryDeleted)
                        .singleElement().satisfies(e -> assertThat(((AuthEvent.EntryDeleted) e).reason())
                                .isEqualTo(GcReason.NOT_REQUIRED));
            }
        }
    }

    private static List<AuthEntry> entries(Agent a) {
        try {
            return a.authMap().entries();
        } catch (dev.meshauth.bpf.BpfException e) {
            throw new IllegalStateException(e);
        }
    }
}
