package dev.meshauth.agent.node;

import dev.meshauth.agent.events.Origin;

import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.cli.Main;
import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.node.source.SourceConfig;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import dev.meshauth.spire.testing.RealSpire;
import dev.meshauth.spire.testing.RealSpireTest;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Rotation with the real SPIRE: X509-SVIDs live 30 s, so each spire-agent rotates them every ~15 s. The
 * agents re-authenticate on every rotation; the entry's expiry moves forward with the new leaves, is always
 * in the future, and never later than the leaves SPIRE delivers (read independently of meshauth).
 */
@KernelTest
@RealSpireTest
class RotationRealSpireKernelTest {
    private static final AuthKey PAIR = new AuthKey(1001, 1002, 2, AuthType.SPIRE);

    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();
    @RegisterExtension
    static final RealSpire spire = RealSpire.nodes("node-1", "node-2")
            .ttls(Duration.ofHours(1), Duration.ofSeconds(30)).build();

    private static AgentConfig config(String node, StarWarsFiles f, Path dir) {
        // The default refreshBefore (1 min), longer than these SVIDs live: refresh must still wait for half-life.
        AuthManagerOptions opts = new AuthManagerOptions(1024, Duration.ofSeconds(1), 4, Duration.ofMillis(100),
                Duration.ofSeconds(2), Duration.ofMinutes(1));
        return new AgentConfig(node, new SourceConfig.Files(f.endpoints(), List.of(f.policy()), Optional.empty()),
                spire.agent(node).adminSocket(), RealSpire.TD, f.port(), Optional.of(bpffs.resolve(node + "/cilium_auth_map")),
                false, Duration.ofMinutes(5), opts, Duration.ofSeconds(5), Optional.of(dir.resolve(node + ".sock")),
                Optional.empty());
    }

    @Test
    void rotatedSvidsAreReauthenticatedAndTheEntryNeverOutlivesTheLeaves(@TempDir Path dir) throws Exception {
        spire.spire().registerOnEveryNode(RealSpire.OPERATOR, List.of(RealSpire.uidSelector()));
        StarWarsFiles files = StarWarsFiles.write(dir, false);
        assertThat(Main.run("operator", "--once", "--registration", "cluster", "--spire-server-socket", spire.server().apiSocket().toString(),
                "--endpoints", files.endpoints().toString())).isZero();
        try (Agent node1 = Agent.start(config("node-1", files, dir), InstantSource.system());
                Agent node2 = Agent.start(config("node-2", files, dir), InstantSource.system());
                SpireLeaves local = new SpireLeaves(spire.agent("node-1").adminSocket());
                SpireLeaves remote = new SpireLeaves(spire.agent("node-2").adminSocket())) {
            List<Instant> expiries = new ArrayList<>();
            long started = System.nanoTime();
            // Real processes, real time: sample until the expiry moved forward twice (two rotations).
            eventually("the expiry moved forward with two rotations", Duration.ofSeconds(100), Duration.ofMillis(250), () -> {
                Optional<AuthInfo> info = node1.authMap().get(PAIR);
                if (info.isPresent()) {
                    Instant e = info.get().expiresAt();
                    Instant leaves = min(local.leaf(1001).getNotAfter().toInstant(), remote.leaf(1002).getNotAfter().toInstant());
                    assertThat(e).as("the entry never outlives the SVIDs it was authenticated with").isBeforeOrEqualTo(leaves);
                    assertThat(e).as("and is renewed before it expires").isAfter(Instant.now());
                    if (expiries.isEmpty() || e.isAfter(expiries.getLast())) {
                        expiries.add(e);
                    }
                    assertThat(e).as("expiry never goes back").isAfterOrEqualTo(expiries.getLast());
                }
                return expiries.size() == 3;
            });
            long seconds = Duration.ofNanos(System.nanoTime() - started).toSeconds();
            long handshakes = node1.events().recent().stream().filter(ev -> ev instanceof AuthEvent.HandshakeSucceeded ok
                    && ok.key().equals(PAIR)).count();
            // About one per rotation of either side (every ~15 s each), not one per refresh tick (every second).
            assertThat(handshakes).as("handshakes in %d s", seconds).isLessThanOrEqualTo(seconds / 3 + 2);
            assertThat(node1.events().recent()).anySatisfy(ev -> assertThat(ev).isInstanceOfSatisfying(
                    AuthEvent.HandshakeSucceeded.class, ok -> assertThat(ok.origin()).isEqualTo(dev.meshauth.agent.events.Origin.ROTATION)));
            assertThat(node1.events().recent()).anySatisfy(ev -> assertThat(ev).isInstanceOf(AuthEvent.SvidRotated.class));
        }
    }

    private static Instant min(Instant a, Instant b) {
        return a.isBefore(b) ? a : b;
    }
}
