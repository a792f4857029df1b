package dev.meshauth.agent.node;

import dev.meshauth.agent.node.source.SourceConfig;
import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.cli.Main;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.datapath.Counter;
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
import java.util.concurrent.TimeUnit;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent with {@code --datapath standalone} on real traffic: the deathstar in its own network
 * namespace, the tiefighter and the xwing in another, joined by a veth pair. The tiefighter's first
 * connection succeeds with zero auth drops (the pair was authenticated ahead of traffic); the xwing is
 * dropped by policy; an entry removed behind the agent's back is re-created from the datapath's signal.
 */
@KernelTest
class StandaloneDatapathAgentKernelTest {
    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");


    private static boolean connects(TestNetwork net, String from, String to, int timeoutMs) throws Exception {
        return NetNs.run(Optional.of(net.nsA()), () -> {
            try (Socket s = new Socket()) {
                s.bind(new InetSocketAddress(from, 0));
                s.connect(new InetSocketAddress(to, 80), timeoutMs);
                return true;
            } catch (SocketTimeoutException e) {
                return false;
            }
        });
    }

    private static void ip(String... args) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(List.of(args)).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes());
        assertThat(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0).as(out).isTrue();
    }

    @Test
    void proactiveAuthMeansNoDropsForTheTiefighterAndPolicyDropsTheXwing(@TempDir Path dir) throws Exception {
        try (TestNetwork net = TestNetwork.create("sd", 52)) {
            String tiefighter = net.addrA();
            String xwing = "198.18.52.3";
            String deathstar = net.addrB();
            ip("ip", "-n", net.nsA().getFileName().toString(), "addr", "add", xwing + "/24", "dev", net.ifA());
            int port;
            try (ServerSocket probe = new ServerSocket(0)) {
                port = probe.getLocalPort();
            }
            Path endpoints = Files.writeString(dir.resolve("endpoints.yaml"), """
                    nodes:
                      - {name: node-1, id: 1, internalIP: 127.0.0.1}
                      - {name: node-2, id: 2, internalIP: 127.0.0.2}
                    endpoints:
                      - {name: deathstar, node: node-1, ipv4: %s, identity: 1001, labels: {org: empire, class: deathstar},
                         interface: %s, netns: %s}
                      - {name: tiefighter, node: node-2, ipv4: %s, identity: 1002, labels: {org: empire, class: tiefighter}}
                      - {name: xwing, node: node-2, ipv4: %s, identity: 1003, labels: {org: alliance, class: xwing}}
                    """.formatted(deathstar, net.ifB(), net.nsB().getFileName(), tiefighter, xwing));
            Path policy = StarWarsFiles.write(Files.createDirectories(dir.resolve("p")), false).policy();
            DevServerConfig spireConfig = DevServerConfig.under(dir.resolve("spire"), TD);
            try (DevServer spire = DevServer.start(spireConfig, InstantSource.system());
                    ServerSocket landing = NetNs.run(Optional.of(net.nsB()), () -> {
                        ServerSocket ss = new ServerSocket();
                        ss.bind(new InetSocketAddress(deathstar, 80));
                        return ss;
                    })) {
                Thread.ofVirtual().start(() -> {
                    while (!landing.isClosed()) {
                        try (Socket ignored = landing.accept()) {
                            // "Ship landed": accepting is enough
                        } catch (IOException e) {
                            return;
                        }
                    }
                });
                assertThat(Main.run("operator", "--once", "--spire-server-socket", spireConfig.serverSocket().toString(),
                        "--endpoints", endpoints.toString())).isZero();
                AuthManagerOptions opts = new AuthManagerOptions(1024, Duration.ofSeconds(1), 4, Duration.ofMillis(100),
                        Duration.ofSeconds(2), Duration.ofMinutes(1));
                AgentConfig node1 = new AgentConfig("node-1", new SourceConfig.Files(endpoints, List.of(policy), Optional.empty()),
                        spireConfig.adminSocket(), TD, port, Optional.of(bpffs.resolve("n1/cilium_auth_map")), true,
                        Duration.ofMinutes(5), opts, Duration.ofSeconds(5), Optional.empty(), Optional.empty());
                AgentConfig node2 = new AgentConfig("node-2", new SourceConfig.Files(endpoints, List.of(policy), Optional.empty()),
                        spireConfig.adminSocket(), TD, port, Optional.of(bpffs.resolve("n2/cilium_auth_map")), false,
                        Duration.ofMinutes(5), opts, Duration.ofSeconds(5), Optional.empty(), Optional.empty());
                try (Agent a1 = Agent.start(node1, InstantSource.system());
                        Agent a2 = Agent.start(node2, InstantSource.system())) {
                    AuthKey pair = new AuthKey(1001, 1002, 2, AuthType.SPIRE);
                    eventually("{ try { return a1.authMap().get(pair).isPresent(); } catch (Exception e) { return false...", Duration.ofSeconds(20),
                            () -> {
                        try {
                            return a1.authMap().get(pair).isPresent();
                        } catch (Exception e) {
                            return false;
                        }
                    });
                    var dp = a1.datapath().orElseThrow();

                    assertThat(connects(net, tiefighter, deathstar, 3000)).as("tiefighter lands").isTrue();
                    assertThat(dp.counters().get(Counter.DROPPED_AUTH)).as("authenticated ahead: no auth drop").isZero();

                    assertThat(connects(net, xwing, deathstar, 1500)).as("xwing is refused by policy").isFalse();
                    assertThat(dp.counters().get(Counter.DROPPED_POLICY)).isPositive();

                    a1.authMap().delete(pair); // removed behind the agent's back
                    assertThat(connects(net, tiefighter, deathstar, 5000))
                            .as("the first SYN is dropped, the signal re-creates the entry, the retransmit lands").isTrue();
                    assertThat(dp.counters().get(Counter.DROPPED_AUTH)).isPositive();
                    assertThat(dp.counters().get(Counter.SIGNALS_EMITTED)).isPositive();
                }
            }
        }
    }
}
