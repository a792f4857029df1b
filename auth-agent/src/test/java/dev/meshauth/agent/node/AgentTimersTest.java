package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.cli.Main;
import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.events.Origin;
import dev.meshauth.agent.node.source.SourceConfig;
import dev.meshauth.agent.time.Clocks;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import dev.meshauth.testing.FakeClock;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent's timed work runs on the scheduler it is given: with a fake clock, its garbage collection
 * (and with it the repair of an entry lost behind its back) happens when the test moves time past the GC
 * interval, and not a tick before. The handshakes themselves are real.
 */
class AgentTimersTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    private static final AuthKey PAIR = new AuthKey(1001, 1002, 2, AuthType.SPIRE);
    private static final Duration GC = Duration.ofMinutes(5);

    @Test
    void garbageCollectionRunsExactlyWhenTheInjectedClockReachesItsInterval(@TempDir Path dir) throws Exception {
        StarWarsFiles files = StarWarsFiles.write(dir, false);
        DevServerConfig spireConfig = DevServerConfig.under(dir.resolve("spire"), TD);
        FakeClock fake = new FakeClock(Instant.now());
        try (DevServer spire = DevServer.start(spireConfig, InstantSource.system())) {
            assertThat(Main.run("operator", "--once", "--spire-server-socket", spireConfig.serverSocket().toString(),
                    "--endpoints", files.endpoints().toString())).isZero();
            AgentConfig node1 = new AgentConfig("node-1", new SourceConfig.Files(files.endpoints(), List.of(files.policy()),
                    Optional.empty()), spireConfig.adminSocket(), TD, files.port(), Optional.empty(), false, GC,
                    new AuthManagerOptions(1024, Duration.ofSeconds(1), 4, Duration.ofSeconds(1), Duration.ofSeconds(1),
                            Duration.ofMinutes(1)), Duration.ofSeconds(5), Optional.empty(), Optional.empty());
            AgentConfig node2 = files.memoryAgent("node-2", spireConfig.adminSocket(), Optional.empty(), Optional.empty());
            try (Agent a1 = Agent.start(node1, new Clocks(fake, fake.ticker(), fake.scheduler()));
                    Agent a2 = Agent.start(node2, InstantSource.system())) {
                // The first attempts may fail while the SVIDs arrive; their retries wait on the fake clock, so
                // time moves a second per poll until the pair holds (well before the first GC at 5 min).
                eventually("the pair authenticated ahead of traffic", Duration.ofSeconds(30), Duration.ofMillis(200), () -> {
                    fake.advance(Duration.ofSeconds(1));
                    return a1.authMap().get(PAIR).isPresent();
                });
                Duration sinceStart = Duration.ofNanos(fake.nanoTime());
                assertThat(sinceStart).isLessThan(GC.minusSeconds(10));
                a1.authMap().delete(PAIR); // behind the agent's back
                fake.advance(GC.minus(sinceStart).minusSeconds(1)); // the first GC timer fires at 5 min after start
                assertThat(a1.manager().stats().repaired()).as("no GC before its interval").isZero();
                assertThat(a1.authMap().get(PAIR)).isEmpty();
                fake.advance(Duration.ofSeconds(1));
                eventually("repaired by the GC run the clock triggered", Duration.ofSeconds(20),
                        () -> a1.authMap().get(PAIR).isPresent());
                assertThat(a1.manager().stats().repaired()).isEqualTo(1);
                assertThat(a1.events().recent()).anyMatch(e -> e instanceof AuthEvent.HandshakeSucceeded ok
                        && ok.origin() == Origin.REPAIR);
            }
        }
    }
}
