package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.cli.CliRun;
import dev.meshauth.agent.cli.Main;
import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.events.GcReason;
import dev.meshauth.agent.node.source.SourceConfig;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.spire.testing.RealSpire;
import dev.meshauth.spire.testing.RealSpireTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static dev.meshauth.testing.Eventually.eventually;
import static dev.meshauth.testing.Eventually.holds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 3 of the reliability campaign, with the real SPIRE: X509-SVIDs live 30 s, and node-1's agent
 * reaches its spire-agent through a relay that can delay or cut it. Faults, one after another, while the
 * pair keeps being renewed: node-1's spire-agent killed for longer than an SVID lives, then started;
 * spire-server killed for 15 s, then started; the admin socket removed under the running spire-agent;
 * the spire-agent answering a second late on every message. Throughout: no entry is deleted for any
 * reason but its expiry, no handshake succeeds with an SVID already expired, status says the stream is
 * down while it is and metrics count the reconnects, and the pair is authenticated again after each.
 */
@RealSpireTest
class SpireFaultsRealSpireTest {
    private static final AuthKey PAIR = new AuthKey(1001, 1002, 2, AuthType.SPIRE);
    private static final Duration SVID_TTL = Duration.ofSeconds(30);

    @RegisterExtension
    static final RealSpire spire = RealSpire.nodes("node-1", "node-2").ttls(Duration.ofHours(1), SVID_TTL).build();

    private static AgentConfig config(String node, StarWarsFiles f, Path adminSocket, Path dir, boolean metrics) {
        AuthManagerOptions opts = new AuthManagerOptions(1024, Duration.ofSeconds(1), 4, Duration.ofMillis(100),
                Duration.ofSeconds(2), Duration.ofMinutes(1));
        return new AgentConfig(node, new SourceConfig.Files(f.endpoints(), List.of(f.policy()), Optional.empty()),
                adminSocket, RealSpire.TD, f.port(), Optional.empty(), false, Duration.ofSeconds(5), opts, Duration.ofSeconds(5),
                Optional.of(dir.resolve(node + ".sock")), metrics ? Optional.of(new InetSocketAddress("127.0.0.1", 0))
                        : Optional.empty());
    }

    private static boolean connected(Path statusSocket) {
        CliRun r = CliRun.of("status", "--status-socket", statusSocket.toString(), "-o", "json");
        return r.out().replace(" ", "").contains("\"connected\":true");
    }

    private static String statusJson(Path statusSocket) {
        return CliRun.of("status", "--status-socket", statusSocket.toString(), "-o", "json").out();
    }

    private static long reconnects(Agent a) throws Exception {
        String body = HttpClient.newHttpClient().send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + a.metricsAddress().orElseThrow().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString()).body();
        Matcher m = Pattern.compile("(?m)^meshauth_spire_stream_reconnects_total(\\{[^}]*\\})? ([0-9.e+]+)$").matcher(body);
        long total = 0;
        while (m.find()) {
            total += (long) Double.parseDouble(m.group(2));
        }
        return total;
    }

    private static boolean valid(Agent a) throws Exception {
        Optional<AuthInfo> info = a.authMap().get(PAIR);
        return info.isPresent() && info.get().isValidAt(Instant.now());
    }

    /** Nothing deleted but by expiry, and no handshake wrote an entry already expired. */
    private static void invariants(String after, Agent... agents) {
        for (Agent a : agents) {
            assertThat(a.events().recent()).as("after %s", after).allSatisfy(e -> {
                if (e instanceof AuthEvent.EntryDeleted d) {
                    assertThat(d.reason()).as("%s deleted after %s", d.key(), after).isEqualTo(GcReason.EXPIRED);
                }
                if (e instanceof AuthEvent.HandshakeSucceeded ok) {
                    assertThat(ok.expiresAt()).as("a handshake at %s used an expired SVID", ok.at()).isAfter(ok.at());
                }
            });
        }
    }

    @Test
    void theAgentRidesOutSpireAgentAndServerOutagesARemovedSocketAndASlowAgent(@TempDir Path dir) throws Exception {
        spire.spire().registerOnEveryNode(RealSpire.OPERATOR, List.of(RealSpire.uidSelector()));
        StarWarsFiles files = StarWarsFiles.write(dir, false);
        assertThat(Main.run("operator", "--once", "--registration", "cluster", "--spire-server-socket", spire.server().apiSocket().toString(),
                "--endpoints", files.endpoints().toString())).isZero();
        Path realAdmin = spire.agent("node-1").adminSocket();
        List<String> figures = new ArrayList<>();
        try (SlowUnixProxy relay = new SlowUnixProxy(dir.resolve("admin-relay.sock"), realAdmin);
                Agent a1 = Agent.start(config("node-1", files, dir.resolve("admin-relay.sock"), dir, true), InstantSource.system());
                Agent a2 = Agent.start(config("node-2", files, spire.agent("node-2").adminSocket(), dir, false),
                        InstantSource.system())) {
            Path status1 = dir.resolve("node-1.sock");
            eventually("the pair authenticated", Duration.ofSeconds(60), () -> valid(a1));

            // A. node-1's spire-agent killed for longer than an SVID lives.
            long reconnectsBefore = reconnects(a1);
            spire.agent("node-1").kill();
            eventually("status says the SPIRE stream is down", Duration.ofSeconds(20), () -> !connected(status1));
            assertThat(statusJson(status1)).contains("stream down");
            long down = System.nanoTime();
            holds("nothing deleted early while node-1's spire-agent is down", SVID_TTL.plusSeconds(5), Duration.ofMillis(500),
                    () -> {
                        invariants("node-1's spire-agent down", a1, a2);
                        return true;
                    });
            assertThat(valid(a1)).as("the entry did not outlive the SVIDs it was made with").isFalse();
            spire.agent("node-1").start();
            long restarted = System.nanoTime();
            eventually("reconnected", Duration.ofSeconds(60), () -> connected(status1));
            eventually("authenticated again", Duration.ofSeconds(60), () -> valid(a1));
            figures.add("spire_agent_down_s=" + (restarted - down) / 1_000_000_000 + " reauth_after_restart_ms="
                    + (System.nanoTime() - restarted) / 1_000_000);
            assertThat(reconnects(a1)).as("metrics count the reconnect").isGreaterThan(reconnectsBefore);
            invariants("node-1's spire-agent restarted", a1, a2);

            // B. spire-server killed for 10 s (less than the 15 s an SVID has left after its rotation at
            // half-life): the spire-agents serve what they have; rotation resumes after.
            spire.server().kill();
            // The spire-agent, not the server, is what the agent talks to: it stays connected.
            holds("nothing deleted early and still connected while spire-server is down", Duration.ofSeconds(10),
                    Duration.ofMillis(500), () -> {
                        invariants("spire-server down", a1, a2);
                        return connected(status1);
                    });
            spire.server().start();
            long serverBack = System.nanoTime();
            Instant expiryBefore = a1.authMap().get(PAIR).map(AuthInfo::expiresAt).orElse(Instant.EPOCH);
            eventually("rotation resumed: the entry renewed with newer SVIDs", Duration.ofSeconds(90),
                    () -> a1.authMap().get(PAIR).map(i -> i.expiresAt().isAfter(expiryBefore) && i.isValidAt(Instant.now()))
                            .orElse(false));
            figures.add("renewed_after_server_restart_ms=" + (System.nanoTime() - serverBack) / 1_000_000);
            invariants("spire-server restarted", a1, a2);

            // C. The admin socket removed under the running spire-agent: reconnects fail until it is back.
            Files.delete(realAdmin);
            relay.cutAll();
            eventually("status says the stream is down", Duration.ofSeconds(20), () -> !connected(status1));
            holds("reconnect attempts fail while the socket is gone", Duration.ofSeconds(5), Duration.ofMillis(500),
                    () -> !connected(status1));
            spire.agent("node-1").kill();
            spire.agent("node-1").start(); // the socket is back
            eventually("reconnected after the socket came back", Duration.ofSeconds(60), () -> connected(status1));
            eventually("authenticated", Duration.ofSeconds(60), () -> valid(a1));
            invariants("the admin socket removed and restored", a1, a2);

            // D. The spire-agent answers a second late on every message, for 20 s.
            relay.delay(Duration.ofSeconds(1));
            relay.cutAll();
            long slow = System.nanoTime();
            eventually("reconnected through the slow relay", Duration.ofSeconds(60), () -> connected(status1));
            figures.add("reconnect_with_1s_delay_ms=" + (System.nanoTime() - slow) / 1_000_000);
            holds("nothing deleted early with a slow spire-agent", Duration.ofSeconds(20), Duration.ofMillis(500), () -> {
                invariants("a slow spire-agent", a1, a2);
                return true;
            });
            assertThat(valid(a1)).as("the pair stays authenticated with a slow spire-agent").isTrue();
            relay.delay(Duration.ZERO);
            invariants("a slow spire-agent", a1, a2);
            System.out.println("CAMPAIGN scenario=spire-faults " + String.join(" ", figures) + " deleted_before_expiry=0");
        }
    }
}
