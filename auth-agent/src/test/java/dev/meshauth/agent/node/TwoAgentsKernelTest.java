package dev.meshauth.agent.node;

import dev.meshauth.agent.node.source.SourceConfig;
import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.cli.Main;
import dev.meshauth.bpf.auth.AuthEntry;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two agents as two nodes on one machine (127.0.0.1 and 127.0.0.2, same port), the dev SPIRE server with
 * entries registered by {@code meshauth operator --once}, the Star Wars policy: before any traffic, the
 * deathstar's node holds exactly the pair with the empire ship on the other node; the other node holds
 * nothing; nothing for the xwing.
 */
@KernelTest
class TwoAgentsKernelTest {
    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");


    private static List<AuthEntry> entries(Agent a) {
        try {
            return a.authMap().entries();
        } catch (Exception e) {
            throw new IllegalStateException(e);
        }
    }

    @Test
    void theDeathstarsNodeAuthenticatesTheEmpireShipBeforeAnyTraffic(@TempDir Path dir) throws Exception {
        StarWarsFiles files = StarWarsFiles.write(dir, true);
        Path endpoints = files.endpoints();
        Path policy = files.policy();
        int port = files.port();
        DevServerConfig spireConfig = DevServerConfig.under(dir.resolve("spire"), TD);
        try (DevServer spire = DevServer.start(spireConfig, InstantSource.system())) {
            int rc = Main.run("operator", "--once", "--spire-server-socket", spireConfig.serverSocket().toString(),
                    "--endpoints", endpoints.toString());
            assertThat(rc).isZero();
            AuthManagerOptions opts = new AuthManagerOptions(1024, Duration.ofSeconds(1), 4, Duration.ofMillis(100),
                    Duration.ofSeconds(2), Duration.ofMinutes(1));
            AgentConfig node1 = new AgentConfig("node-1", new SourceConfig.Files(endpoints, List.of(policy), Optional.empty()),
                    spireConfig.adminSocket(), TD, port, Optional.of(bpffs.resolve("node1/cilium_auth_map")), false,
                    Duration.ofMinutes(5), opts, Duration.ofSeconds(5), Optional.empty(), Optional.empty());
            AgentConfig node2 = new AgentConfig("node-2", new SourceConfig.Files(endpoints, List.of(policy), Optional.empty()),
                    spireConfig.adminSocket(), TD, port, Optional.of(bpffs.resolve("node2/cilium_auth_map")), false,
                    Duration.ofMinutes(5), opts, Duration.ofSeconds(5), Optional.empty(), Optional.empty());
            try (Agent a1 = Agent.start(node1, InstantSource.system()); Agent a2 = Agent.start(node2, InstantSource.system())) {
                AuthKey expected = new AuthKey(1001, 1002, 2, AuthType.SPIRE);
                assertThat(a1.required()).containsExactly(expected);
                assertThat(a2.required()).isEmpty();
                eventually("entries(a1).size() == 1", Duration.ofSeconds(20), () -> entries(a1).size() == 1);
                AuthEntry e = entries(a1).getFirst();
                assertThat(e.key()).isEqualTo(expected);
                // Expiry: the earlier of the two leaves, both issued by the dev server with a 1 h TTL.
                assertThat(e.info().expiresAt()).isBetween(java.time.Instant.now().plus(Duration.ofMinutes(55)),
                        java.time.Instant.now().plus(Duration.ofMinutes(61)));
                assertThat(entries(a2)).isEmpty();
                assertThat(entries(a1)).noneMatch(x -> x.key().remoteIdentity() == 1003);
            }
        }
    }

    @Test
    void feedingCiliumTheEntriesCarryCiliumsNodeIdsOnceCiliumHasOne(@TempDir Path dir) throws Exception {
        StarWarsFiles files = StarWarsFiles.write(dir, true);
        Path nodeMapPin = bpffs.resolve("cilium1/cilium_node_map_v2");
        DevServerConfig spireConfig = DevServerConfig.under(dir.resolve("spire"), TD);
        try (dev.meshauth.bpf.map.BpfMap nodeMap = dev.meshauth.bpf.map.BpfMap.create(dev.meshauth.bpf.cilium.CiliumNodeMap.SPEC);
                DevServer spire = DevServer.start(spireConfig, InstantSource.system())) {
            nodeMap.pin(nodeMapPin);
            assertThat(Main.run("operator", "--once", "--spire-server-socket", spireConfig.serverSocket().toString(),
                    "--endpoints", files.endpoints().toString())).isZero();
            AuthManagerOptions opts = new AuthManagerOptions(1024, Duration.ofSeconds(1), 4, Duration.ofMillis(100),
                    Duration.ofSeconds(2), Duration.ofMinutes(1));
            SourceConfig src = new SourceConfig.Files(files.endpoints(), List.of(files.policy()), Optional.empty());
            AgentConfig node1 = new AgentConfig("node-1", src, spireConfig.adminSocket(), TD, files.port(),
                    Optional.of(bpffs.resolve("cilium1/cilium_auth_map")), false, Duration.ofMinutes(5), opts,
                    Duration.ofSeconds(5), Optional.empty(), Optional.empty(), Optional.of(nodeMapPin));
            AgentConfig node2 = new AgentConfig("node-2", src, spireConfig.adminSocket(), TD, files.port(),
                    Optional.of(bpffs.resolve("cilium2/cilium_auth_map")), false, Duration.ofMinutes(5), opts,
                    Duration.ofSeconds(5), Optional.empty(), Optional.empty());
            try (Agent a1 = Agent.start(node1, InstantSource.system()); Agent a2 = Agent.start(node2, InstantSource.system())) {
                // Cilium has not given node-2 an id yet: nothing can be keyed, and the agent says why.
                assertThat(a1.required()).isEmpty();
                assertThat(a1.view().cluster().unkeyed()).containsExactly("node-2 (127.0.0.2)");
                // The check API says so too, and never keys the pair as node 0 (this node).
                var check = new AgentStatusApi(a1.view()).handle(new dev.meshauth.agent.status.StatusServer.Request("/v1/check",
                        java.util.Map.of("from", "tiefighter", "to", "deathstar", "port", "80")));
                assertThat(check).isInstanceOfSatisfying(dev.meshauth.agent.status.StatusServer.Response.Json.class, j -> {
                    var c = (dev.meshauth.agent.status.StatusModel.Check) j.body();
                    assertThat(c.verdict()).isEqualTo("auth-required-missing");
                    assertThat(c.reason()).contains("node node-2 has no node id yet");
                });
                // Cilium's agent allocates id 42 for node-2 (node_v4_add_entry): the pair follows within seconds.
                try (var arena = java.lang.foreign.Arena.ofConfined()) {
                    var key = arena.allocate(20);
                    key.set(java.lang.foreign.ValueLayout.JAVA_BYTE, 3, (byte) 1);
                    java.lang.foreign.MemorySegment.copy(new byte[] {127, 0, 0, 2}, 0, key, java.lang.foreign.ValueLayout.JAVA_BYTE,
                            4, 4);
                    var value = arena.allocate(4);
                    value.set(java.lang.foreign.ValueLayout.JAVA_SHORT, 0, (short) 42);
                    nodeMap.update(key, value, dev.meshauth.bpf.map.UpdateFlag.ANY);
                }
                eventually("entries(a1).size() == 1", Duration.ofSeconds(20), () -> entries(a1).size() == 1);
                assertThat(entries(a1).getFirst().key()).isEqualTo(new AuthKey(1001, 1002, 42, AuthType.SPIRE));
                assertThat(a1.view().cluster().unkeyed()).isEmpty();
                assertThat(a2.handshakesAccepted()).as("the handshake went to node-2's address").isEqualTo(1);
            }
        }
    }
}
