package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.cli.Main;
import dev.meshauth.agent.cli.MeshauthProcess;
import dev.meshauth.agent.node.source.SourceConfig;
import dev.meshauth.bpf.auth.AuthEntry;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.auth.KernelAuthMap;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Collections;
import java.util.List;
import java.util.Optional;
import java.util.Random;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 2 of the reliability campaign: node-1's agent, a real process writing a pinned map, is
 * SIGKILLed 2 to 5 s after each start while SVIDs rotate every 10 s (20 s TTL) and node-2's agent keeps
 * serving. Before each start the test removes one of its entries from the pin (as if it had expired
 * while the agent was down), so each start must authenticate again. Half-way through, SPIRE's entry of one
 * of node-1's identities is removed while the agent is down. After every kill the pin is read: only the
 * expected pairs, each expiring no later than its SVIDs can (issued at most now, 20 s TTL); after the
 * removal, no entry of the removed identity survives the next start. {@code -Dmeshauth.campaign.kills=100}
 * is the campaign's length (6 in CI).
 */
@KernelTest
class SigkillLoopKernelTest {
    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    private static final int KILLS = Integer.getInteger("meshauth.campaign.kills", 6);
    private static final Duration SVID_TTL = Duration.ofSeconds(20);
    private static final AuthKey DEATHSTAR = new AuthKey(1001, 1002, 2, AuthType.SPIRE);
    private static final AuthKey DEATHSTAR_B = new AuthKey(1005, 1002, 2, AuthType.SPIRE);


    private static boolean holds(Path pin, AuthKey k) {
        return PinnedEntries.read(pin).stream().anyMatch(e -> e.key().equals(k));
    }

    private static void remove(Path pin, AuthKey k) throws Exception {
        try (KernelAuthMap m = KernelAuthMap.openExisting(pin, false)) {
            m.delete(k);
        }
    }

    private static String endpoints(boolean withB) {
        return """
                nodes:
                  - {name: node-1, id: 1, internalIP: 127.0.0.1}
                  - {name: node-2, id: 2, internalIP: 127.0.0.2}
                endpoints:
                  - {name: deathstar, node: node-1, ipv4: 198.18.1.10, identity: 1001, labels: {class: deathstar}}
                  - {name: tiefighter, node: node-2, ipv4: 198.18.2.20, identity: 1002, labels: {class: tiefighter}}
                """ + (withB ? "  - {name: deathstar-b, node: node-1, ipv4: 198.18.1.11, identity: 1005, labels: {class: deathstar}}\n" : "");
    }

    @Test
    void killedAgainAndAgainThePinStaysConsistentAndEachStartAuthenticatesAgain(@TempDir Path dir) throws Exception {
        Path all = Files.writeString(dir.resolve("endpoints.yaml"), endpoints(true));
        Path withoutB = Files.writeString(dir.resolve("operator-without-b.yaml"), endpoints(false));
        Path policy = Files.writeString(dir.resolve("policy.yaml"), """
                apiVersion: cilium.io/v2
                kind: CiliumNetworkPolicy
                metadata: {name: deathstar}
                spec:
                  endpointSelector: {matchLabels: {class: deathstar}}
                  ingress:
                  - fromEndpoints: [{matchLabels: {class: tiefighter}}]
                    authentication: {mode: required}
                """);
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Path pin = bpffs.resolve("node1/cilium_auth_map");
        DevServerConfig spireConfig = DevServerConfig.under(dir.resolve("spire"), TD).withSvidTtl(SVID_TTL);
        Random random = new Random(Long.getLong("meshauth.campaign.seed", 17));
        List<Long> resumeMs = new ArrayList<>();
        List<Long> lifetimesMs = new ArrayList<>();
        int entriesChecked = 0;
        try (DevServer spire = DevServer.start(spireConfig, InstantSource.system())) {
            assertThat(Main.run("operator", "--once", "--spire-server-socket", spireConfig.serverSocket().toString(),
                    "--endpoints", all.toString())).isZero();
            AgentConfig node2 = new AgentConfig("node-2", new SourceConfig.Files(all, List.of(policy), Optional.empty()),
                    spireConfig.adminSocket(), TD, port, Optional.empty(), false, Duration.ofMinutes(5),
                    AuthManagerOptions.DEFAULTS, Duration.ofSeconds(5), Optional.empty(), Optional.empty());
            List<String> args = List.of("agent", "--node-name", "node-1", "--endpoints", all.toString(), "--policies",
                    policy.toString(), "--mesh-auth-spire-admin-socket", spireConfig.adminSocket().toString(),
                    "--mesh-auth-mutual-listener-port", Integer.toString(port), "--mesh-auth-mutual-listen-address", "127.0.0.1",
                    "--auth-map", pin.toString(), "--node-ids", "source", "--status-socket", "off", "--metrics-address", "off");
            int removedAt = KILLS / 2;
            try (Agent a2 = Agent.start(node2, InstantSource.system())) {
                for (int round = 0; round < KILLS; round++) {
                    final int i = round;
                    boolean removed = i >= removedAt;
                    if (i == removedAt) { // while node-1's agent is down: no removal event will reach it
                        assertThat(Main.run("operator", "--once", "--spire-server-socket", spireConfig.serverSocket().toString(),
                                "--endpoints", withoutB.toString())).isZero();
                    }
                    AuthKey needed = random.nextBoolean() || removed ? DEATHSTAR : DEATHSTAR_B;
                    if (Files.exists(pin)) {
                        remove(pin, needed);
                    }
                    Duration lifetime = Duration.ofMillis(2_000 + random.nextInt(3_001));
                    StringBuffer log = new StringBuffer();
                    long t0 = System.nanoTime();
                    Process p = MeshauthProcess.start(args, log);
                    try {
                        eventually("agent " + i + " up", Duration.ofSeconds(30), () -> {
                            assertThat(p.isAlive()).as("agent %d runs; it printed:%n%s", i, log).isTrue();
                            return log.indexOf("agent up node=node-1") >= 0;
                        });
                        long up = System.nanoTime();
                        eventually("agent " + i + " authenticated " + needed + " again", Duration.ofSeconds(15),
                                () -> holds(pin, needed));
                        resumeMs.add((System.nanoTime() - up) / 1_000_000);
                        if (removed) {
                            eventually("no entry of the removed identity 1005 after start " + i, Duration.ofSeconds(10),
                                    () -> PinnedEntries.read(pin).stream().noneMatch(e -> e.key().localIdentity() == 1005));
                        }
                        long left = lifetime.toNanos() - (System.nanoTime() - t0);
                        if (left > 0) {
                            TimeUnit.NANOSECONDS.sleep(left);
                        }
                    } finally {
                        p.destroyForcibly(); // SIGKILL
                        assertThat(p.waitFor(10, TimeUnit.SECONDS)).isTrue();
                    }
                    lifetimesMs.add((System.nanoTime() - t0) / 1_000_000);
                    Instant now = Instant.now();
                    Set<AuthKey> allowed = removed ? Set.of(DEATHSTAR) : Set.of(DEATHSTAR, DEATHSTAR_B);
                    for (AuthEntry e : PinnedEntries.read(pin)) {
                        entriesChecked++;
                        assertThat(allowed).as("after kill %d, only the expected pairs", i).contains(e.key());
                        assertThat(e.info().expiresAt()).as("after kill %d, %s expires no later than its SVIDs can", i, e.key())
                                .isBefore(now.plus(SVID_TTL).plusSeconds(1));
                    }
                }
            }
        }
        List<Long> sorted = new ArrayList<>(resumeMs);
        Collections.sort(sorted);
        System.out.println("CAMPAIGN scenario=sigkill-loop kills=" + KILLS + " entries_checked=" + entriesChecked
                + " lifetime_ms_min=" + Collections.min(lifetimesMs) + " lifetime_ms_max=" + Collections.max(lifetimesMs)
                + " resume_after_up_ms_p50=" + sorted.get(sorted.size() / 2) + " resume_after_up_ms_max=" + sorted.getLast()
                + " lost=0");
    }
}
