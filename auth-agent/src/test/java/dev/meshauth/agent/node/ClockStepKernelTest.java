package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.node.source.SourceConfig;
import dev.meshauth.agent.time.Clocks;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.datapath.Datapath;
import dev.meshauth.bpf.datapath.Frames;
import dev.meshauth.bpf.datapath.Role;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import dev.meshauth.testing.FakeClock;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Optional;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 4 of the reliability campaign: the wall clock stepped under a running agent with the
 * standalone datapath. Time is a fake clock (wall, ticker and scheduler); the kernel's monotonic clock
 * is real, so what the program decides is the real datapath judging entries against the offset the agent
 * gave it. A step forward past an entry's expiry must stop it passing within a second, and a step back
 * must not make the kernel drop an entry valid at the new time: both need the offset taken again at the
 * step, not at the next minute's sync.
 */
@KernelTest
class ClockStepKernelTest {
    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();
    private static final AuthKey TIE = new AuthKey(1001, 1002, 2, AuthType.SPIRE);
    private static final int PASS = 0;
    private static final int DROP = 2;

    /** A new connection from the tiefighter to the deathstar's port 80 (conntrack flushed: it meets policy). */
    private static int tiefighterSyn(Datapath dp) throws Exception {
        dp.flushConntrack();
        return dp.testRun(Role.TO_ENDPOINT, Frames.tcp("198.18.2.20", "198.18.1.10", 40_000, 80), 1).retval();
    }

    @Test
    void aStepForwardExpiresAndAStepBackKeepsEntriesInTheKernelWithinASecond(@TempDir Path dir) throws Exception {
        StarWarsFiles files = StarWarsFiles.write(dir, false);
        FakeClock clock = new FakeClock(Instant.now());
        AgentConfig.Tuning d = AgentConfig.Tuning.DEFAULTS;
        // Not proactive and no SPIRE: the entries are the test's, so only the clock decides their fate.
        AgentConfig config = new AgentConfig("node-1", new SourceConfig.Files(files.endpoints(), List.of(files.policy()),
                Optional.empty()), dir.resolve("no-spire.sock"), TrustDomain.parse("spiffe.cilium"), 0,
                Optional.of(bpffs.resolve("step/cilium_auth_map")), true, Duration.ofMinutes(5),
                AuthManagerOptions.DEFAULTS.withProactive(false), Duration.ofSeconds(5), Optional.empty(), Optional.empty(),
                Optional.empty(), d.withSvidWait(Duration.ZERO), new ListenAddress.NodeAddress());
        try (Agent agent = Agent.start(config, new Clocks(clock, clock.ticker(), clock.scheduler()))) {
            Datapath dp = agent.datapath().orElseThrow();
            clock.advance(Duration.ofSeconds(1));
            // No SYN before the entry exists: its drop would signal, and the retries of that failing request
            // (no SPIRE here) keep the key busy at moments, when a GC leaves it to the handshake in flight.
            agent.authMap().put(TIE, AuthInfo.expiringAt(clock.instant().plus(Duration.ofMinutes(30))));
            assertThat(tiefighterSyn(dp)).as("a valid entry passes").isEqualTo(PASS);

            // Forward an hour: the entry expired half an hour ago on the new wall time.
            clock.stepWall(Duration.ofHours(1));
            clock.advance(Duration.ofSeconds(1));
            eventually("the step noticed and reacted to", Duration.ofSeconds(10), () -> agent.clockSteps() == 1);
            assertThat(tiefighterSyn(dp)).as("expired at the new time: not kept alive until the next sync")
                    .isEqualTo(DROP);
            assertThat(agent.authMap().get(TIE)).as("and collected at once").isEmpty();

            // Back two hours: an entry written now, valid for 30 min of the new wall time, expires before
            // the old one; the kernel must judge it on the new time too.
            clock.stepWall(Duration.ofHours(-2));
            clock.advance(Duration.ofSeconds(1));
            eventually("the step back noticed and reacted to", Duration.ofSeconds(10), () -> agent.clockSteps() == 2);
            AuthInfo valid = AuthInfo.expiringAt(clock.instant().plus(Duration.ofMinutes(30)));
            agent.authMap().put(TIE, valid);
            assertThat(tiefighterSyn(dp)).as("valid at the new time: not dropped on the old offset").isEqualTo(PASS);
            clock.advance(Duration.ofMinutes(6)); // past a GC interval and a clock sync: nothing valid deleted
            agent.awaitLoop(Duration.ofSeconds(10));
            assertThat(agent.authMap().get(TIE)).contains(valid);
            assertThat(tiefighterSyn(dp)).isEqualTo(PASS);

            // Time runs out on the new wall clock: the kernel drops it at its expiry, without a step.
            clock.advance(Duration.ofMinutes(25));
            agent.awaitLoop(Duration.ofSeconds(10));
            assertThat(tiefighterSyn(dp)).as("expired by time passing on the stepped clock").isEqualTo(DROP);
            assertThat(agent.clockSteps()).as("time passing is no step").isEqualTo(2);
        }
    }
}
