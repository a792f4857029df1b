package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.cli.Main;
import dev.meshauth.agent.node.source.SourceConfig;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.link.NetNs;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import dev.meshauth.bpf.testing.TestNetwork;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent programs both directions of its endpoints, for both families: the deathstar (dual-stack, in
 * its own namespace) may open connections only where its egress policy says, with authentication, and
 * the tiefighter reaches it over IPv6 as over IPv4.
 */
@KernelTest
class StandaloneEgressAgentKernelTest {
    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");

    private static ServerSocket listen(Path ns, String host, int port) throws Exception {
        ServerSocket server = NetNs.run(Optional.of(ns), () -> {
            ServerSocket ss = new ServerSocket();
            ss.bind(new InetSocketAddress(host, port));
            return ss;
        });
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try (Socket ignored = server.accept()) {
                    // accepting completes the connect
                } catch (IOException e) {
                    return;
                }
            }
        });
        return server;
    }

    private static boolean connects(Path ns, String to, int port) throws Exception {
        return connectsWithin(ns, to, port, 1500);
    }

    private static boolean connectsWithin(Path ns, String to, int port, int timeoutMs) throws Exception {
        return NetNs.run(Optional.of(ns), () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(to, port), timeoutMs);
                return true;
            } catch (SocketTimeoutException e) {
                return false;
            }
        });
    }

    @Test
    void egressRulesAndAuthenticationAreEnforcedAtTheSourceAndIpv6AsIpv4(@TempDir Path dir) throws Exception {
        try (TestNetwork net = TestNetwork.create("se", 53)) {
            int port;
            try (ServerSocket probe = new ServerSocket(0)) {
                port = probe.getLocalPort();
            }
            Path endpoints = Files.writeString(dir.resolve("endpoints.yaml"), """
                    nodes:
                      - {name: node-1, id: 1, internalIP: 127.0.0.1}
                      - {name: node-2, id: 2, internalIP: 127.0.0.2}
                    endpoints:
                      - {name: deathstar, node: node-1, ipv4: %s, ipv6: "%s", identity: 1001,
                         labels: {org: empire, class: deathstar}, interface: %s, netns: %s}
                      - {name: tiefighter, node: node-2, ipv4: %s, ipv6: "%s", identity: 1002,
                         labels: {org: empire, class: tiefighter}}
                    """.formatted(net.addrB(), net.addrB6(), net.ifB(), net.nsB().getFileName(), net.addrA(), net.addrA6()));
            Path policies = Files.createDirectories(dir.resolve("p"));
            Files.writeString(policies.resolve("ingress.yaml"), """
                    apiVersion: cilium.io/v2
                    kind: CiliumNetworkPolicy
                    metadata: {name: rule1}
                    spec:
                      endpointSelector: {matchLabels: {class: deathstar}}
                      ingress:
                      - fromEndpoints: [{matchLabels: {org: empire}}]
                        authentication: {mode: required}
                        toPorts: [{ports: [{port: "80", protocol: TCP}]}]
                    """);
            Files.writeString(policies.resolve("egress.yaml"), """
                    apiVersion: cilium.io/v2
                    kind: CiliumNetworkPolicy
                    metadata: {name: deathstar-egress}
                    spec:
                      endpointSelector: {matchLabels: {class: deathstar}}
                      egress:
                      - toEndpoints: [{matchLabels: {class: tiefighter}}]
                        authentication: {mode: required}
                        toPorts: [{ports: [{port: "8443", endPort: 8445, protocol: TCP}]}]
                    """);
            DevServerConfig spireConfig = DevServerConfig.under(dir.resolve("spire"), TD);
            try (DevServer spire = DevServer.start(spireConfig, InstantSource.system());
                    ServerSocket landing = listen(net.nsB(), "::", 80);
                    ServerSocket tie8443 = listen(net.nsA(), "::", 8443);
                    ServerSocket tie8446 = listen(net.nsA(), "::", 8446)) {
                assertThat(Main.run("operator", "--once", "--spire-server-socket", spireConfig.serverSocket().toString(),
                        "--endpoints", endpoints.toString())).isZero();
                AuthManagerOptions opts = new AuthManagerOptions(1024, Duration.ofSeconds(1), 4, Duration.ofMillis(100),
                        Duration.ofSeconds(2), Duration.ofMinutes(1));
                AgentConfig node1 = new AgentConfig("node-1", new SourceConfig.Files(endpoints, List.of(policies),
                        Optional.empty()), spireConfig.adminSocket(), TD, port, Optional.of(bpffs.resolve("e1/cilium_auth_map")),
                        true, Duration.ofMinutes(5), opts, Duration.ofSeconds(5), Optional.empty(), Optional.empty());
                AgentConfig node2 = new AgentConfig("node-2", new SourceConfig.Files(endpoints, List.of(policies),
                        Optional.empty()), spireConfig.adminSocket(), TD, port, Optional.of(bpffs.resolve("e2/cilium_auth_map")),
                        false, Duration.ofMinutes(5), opts, Duration.ofSeconds(5), Optional.empty(), Optional.empty());
                try (Agent a1 = Agent.start(node1, InstantSource.system());
                        Agent a2 = Agent.start(node2, InstantSource.system())) {
                    AuthKey pair = new AuthKey(1001, 1002, 2, AuthType.SPIRE);
                    eventually("node-1 holds the pair", Duration.ofSeconds(20), () -> {
                        try {
                            return a1.authMap().get(pair).isPresent();
                        } catch (Exception e) {
                            return false;
                        }
                    });
                    assertThat(connects(net.nsB(), net.addrA(), 8443)).as("egress rule, authenticated pair").isTrue();
                    assertThat(connects(net.nsB(), net.addrA6(), 8443)).as("the same over IPv6").isTrue();
                    assertThat(connects(net.nsB(), net.addrA(), 8446)).as("outside the egress range").isFalse();
                    assertThat(connects(net.nsA(), net.addrB6(), 80)).as("ingress over IPv6").isTrue();
                    assertThat(connects(net.nsA(), net.addrB(), 81)).as("ingress, another port").isFalse();

                    a1.authMap().delete(pair); // removed behind the agent's back: the source's egress drops and signals
                    assertThat(connectsWithin(net.nsB(), net.addrA(), 8443, 5000))
                            .as("the first SYN is dropped at the source, the signal re-creates the entry, the retransmit"
                                    + " leaves").isTrue();
                    assertThat(a1.datapath().orElseThrow().counters().get(dev.meshauth.bpf.datapath.Counter.DROPPED_AUTH))
                            .isPositive();
                }
            }
        }
    }
}
