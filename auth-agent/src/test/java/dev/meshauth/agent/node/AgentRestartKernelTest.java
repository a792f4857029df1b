package dev.meshauth.agent.node;

import dev.meshauth.agent.node.source.SourceConfig;
import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.cli.Main;
import dev.meshauth.bpf.auth.AuthEntry;
import dev.meshauth.bpf.auth.KernelAuthMap;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The deathstar node's agent as a real process, killed with SIGKILL and started again: the pinned
 * entries survive, the restarted agent restores its cache from them, and it does not redo the
 * handshake for the still-valid pair (the peer agent sees no second handshake).
 */
@KernelTest
class AgentRestartKernelTest {
    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");



    private static Process agentProcess(List<String> args, StringBuffer log) throws Exception {
        return dev.meshauth.agent.cli.MeshauthProcess.start(args, log);
    }

    @Test
    void sigkillAndRestartKeepEntriesAndDoNotRedoHandshakes(@TempDir Path dir) throws Exception {
        StarWarsFiles files = StarWarsFiles.write(dir, false);
        Path endpoints = files.endpoints();
        Path policy = files.policy();
        int port = files.port();
        Path pin = bpffs.resolve("node1/cilium_auth_map");
        DevServerConfig spireConfig = DevServerConfig.under(dir.resolve("spire"), TD);
        try (DevServer spire = DevServer.start(spireConfig, InstantSource.system())) {
            assertThat(Main.run("operator", "--once", "--spire-server-socket", spireConfig.serverSocket().toString(),
                    "--endpoints", endpoints.toString())).isZero();
            AgentConfig node2 = new AgentConfig("node-2", new SourceConfig.Files(endpoints, List.of(policy), Optional.empty()),
                    spireConfig.adminSocket(), TD, port, Optional.of(bpffs.resolve("node2/cilium_auth_map")), false,
                    Duration.ofMinutes(5), AuthManagerOptions.DEFAULTS, Duration.ofSeconds(5), Optional.empty(), Optional.empty());
            Path statusSocket = dir.resolve("run/agent.sock");
            List<String> args = List.of("agent", "--node-name", "node-1", "--endpoints", endpoints.toString(), "--policies",
                    policy.toString(), "--mesh-auth-spire-admin-socket", spireConfig.adminSocket().toString(),
                    "--mesh-auth-mutual-listener-port", Integer.toString(port),
                    "--mesh-auth-mutual-listen-address", "127.0.0.1", // node-2 holds 127.0.0.2 on the same port
                    "--auth-map", pin.toString(),
                    "--status-socket", statusSocket.toString(), "--metrics-address", "127.0.0.1:0", "--node-ids", "source");
            try (Agent a2 = Agent.start(node2, InstantSource.system())) {
                StringBuffer log1 = new StringBuffer();
                List<String> jsonArgs = new ArrayList<>(args);
                jsonArgs.addAll(List.of("--log-format", "json"));
                Process first = agentProcess(jsonArgs, log1);
                try {
                    eventually("one entry pinned", Duration.ofSeconds(30), () -> {
                        assertThat(first.isAlive()).as("the agent process runs; it printed:%n%s", log1).isTrue();
                        return PinnedEntries.read(pin).size() == 1;
                    });
                    eventually("log1.toString().contains(\"\\\"authenticated\\\"\")", Duration.ofSeconds(30),
                            () -> log1.toString().contains("\"authenticated\""));
                    // --log-format json: every log line is one JSON object; the decision carries its key-value pairs.
                    List<com.fasterxml.jackson.databind.JsonNode> lines = new ArrayList<>();
                    for (String l : log1.toString().split("\n")) {
                        if (l.startsWith("{")) {
                            lines.add(new com.fasterxml.jackson.databind.ObjectMapper().readTree(l));
                        } else {
                            assertThat(l).as("only JSON on the log stream, besides the startup line").startsWith("meshauth agent running");
                        }
                    }
                    com.fasterxml.jackson.databind.JsonNode decision = lines.stream()
                            .filter(n -> "authenticated".equals(n.path("formattedMessage").asText())).findFirst().orElseThrow();
                    assertThat(decision.path("level").asText()).isEqualTo("INFO");
                    String kv = decision.path("kvpList").toString();
                    assertThat(kv).contains("\"local\"").contains("1001").contains("\"remote\"").contains("1002")
                            .contains("\"node\"").contains("node-2").contains("\"auth_type\"").contains("spire")
                            .contains("\"origin\"");
                } finally {
                    first.destroyForcibly(); // SIGKILL: no shutdown hooks, no goodbyes
                    first.waitFor(10, TimeUnit.SECONDS);
                }
                List<AuthEntry> before = PinnedEntries.read(pin);
                assertThat(before).hasSize(1);
                long handshakes = a2.handshakesAccepted();
                assertThat(handshakes).isEqualTo(1);

                StringBuffer log2 = new StringBuffer();
                Process second = agentProcess(args, log2);
                try {
                    eventually("log2.toString().contains(\"meshauth agent running on node-1\")", Duration.ofSeconds(30),
                            () -> log2.toString().contains("meshauth agent running on node-1"));
                    assertThat(log2.toString()).contains("auth cache restored from the auth map entries=1");
                    Thread.sleep(2_000); // give it every chance to redo the handshake; it must not
                    assertThat(a2.handshakesAccepted()).as("no duplicate handshake").isEqualTo(handshakes);
                    assertThat(PinnedEntries.read(pin)).isEqualTo(before);
                    // The SIGKILLed agent left its status socket behind; the new one took it over.
                    assertThat(dev.meshauth.agent.cli.Main.run("status", "--status-socket", statusSocket.toString()))
                            .as("status of the restarted agent: healthy").isZero();
                } finally {
                    second.destroyForcibly();
                    second.waitFor(10, TimeUnit.SECONDS);
                }
            }
        }
    }
}
