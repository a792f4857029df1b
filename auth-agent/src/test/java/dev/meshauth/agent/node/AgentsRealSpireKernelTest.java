package dev.meshauth.agent.node;

import ch.qos.logback.classic.Logger;
import ch.qos.logback.classic.spi.ILoggingEvent;
import ch.qos.logback.core.read.ListAppender;
import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.events.GcReason;
import dev.meshauth.agent.cli.CliRun;
import dev.meshauth.agent.cli.ExitCodes;
import dev.meshauth.agent.cli.Main;
import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.node.source.SourceConfig;
import dev.meshauth.bpf.auth.AuthEntry;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import dev.meshauth.spire.delegated.DelegatedIdentityClient;
import dev.meshauth.spire.testing.RealSpire;
import dev.meshauth.spire.testing.RealSpireTest;
import io.spiffe.spiffeid.SpiffeId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import org.slf4j.LoggerFactory;
import spire.api.types.EntryOuterClass.Entry;

import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;

import static dev.meshauth.testing.Eventually.eventually;
import static dev.meshauth.testing.Eventually.holds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Two meshauth agents (node-1 on 127.0.0.1, node-2 on 127.0.0.2), each the authorized delegate of its own
 * real {@code spire-agent}, entries registered by {@code meshauth operator --once} in the real
 * {@code spire-server}, Cilium's Star Wars policy, pinned auth maps. Each test starts from the pair
 * (deathstar 1001, tiefighter 1002 on node 2) authenticated on node-1.
 */
@KernelTest
@RealSpireTest
class AgentsRealSpireKernelTest {
    private static final SpiffeId SOMEONE_ELSE = SpiffeId.parse("spiffe://spiffe.cilium/someone-else");
    private static final AuthKey PAIR = new AuthKey(1001, 1002, 2, AuthType.SPIRE);

    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();
    @RegisterExtension
    static final RealSpire spire = RealSpire.nodes("node-1", "node-2").node("node-3", List.of(SOMEONE_ELSE))
            .node("node-4", List.of(RealSpire.MESHAUTH_AGENT)).build();
    @TempDir
    static Path dir;
    private static StarWarsFiles files;
    private static Agent node1;
    private static Agent node2;

    static AgentConfig config(String node, StarWarsFiles f, String spireNode, Path statusSocket) {
        AuthManagerOptions opts = new AuthManagerOptions(1024, Duration.ofSeconds(1), 4, Duration.ofMillis(100),
                Duration.ofSeconds(2), Duration.ofMinutes(1));
        return new AgentConfig(node, new SourceConfig.Files(f.endpoints(), List.of(f.policy()), Optional.empty()),
                spire.agent(spireNode).adminSocket(), RealSpire.TD, f.port(),
                Optional.of(bpffs.resolve(spireNode + "/cilium_auth_map")), false, Duration.ofMinutes(5), opts,
                Duration.ofSeconds(5), Optional.of(statusSocket), Optional.empty());
    }

    @BeforeAll
    static void start() throws Exception {
        // Cilium's layout: identity entries are children of the operator's entry, which every agent receives;
        // except node-4's here, which therefore gets none of them.
        for (String node : List.of("node-1", "node-2", "node-3")) {
            spire.spire().register(node, RealSpire.OPERATOR, List.of(RealSpire.uidSelector()));
        }
        files = StarWarsFiles.write(dir, true);
        node1 = Agent.start(config("node-1", files, "node-1", dir.resolve("node-1.sock")), InstantSource.system());
        node2 = Agent.start(config("node-2", files, "node-2", dir.resolve("node-2.sock")), InstantSource.system());
    }

    @AfterAll
    static void stop() {
        if (node2 != null) {
            node2.close();
        }
        if (node1 != null) {
            node1.close();
        }
    }

    @BeforeEach
    void registeredAndAuthenticated() throws Exception {
        assertThat(Main.run("operator", "--once", "--registration", "cluster", "--spire-server-socket", spire.server().apiSocket().toString(),
                "--endpoints", files.endpoints().toString())).isZero();
        eventually("node-1 holds " + PAIR, Duration.ofSeconds(40), () -> present(node1, PAIR));
    }

    @Test
    void thePairIsAuthenticatedAheadOfTrafficUntilTheEarlierNotAfterOfTheTwoSpireLeaves() throws Exception {
        AuthEntry entry = node1.authMap().get(PAIR).map(info -> new AuthEntry(PAIR, info)).orElseThrow();
        // Each spire-agent mints its own SVID for an entry: node-1's for the deathstar, node-2's for the tiefighter.
        try (SpireLeaves local = new SpireLeaves(spire.agent("node-1").adminSocket());
                SpireLeaves remote = new SpireLeaves(spire.agent("node-2").adminSocket())) {
            Instant deathstar = SpireLeaves.opensslNotAfter(local.leaf(1001), dir);
            Instant tiefighter = SpireLeaves.opensslNotAfter(remote.leaf(1002), dir);
            Instant earlier = deathstar.isBefore(tiefighter) ? deathstar : tiefighter;
            assertThat(entry.info().expiresAt()).as("deathstar %s, tiefighter %s", deathstar, tiefighter).isEqualTo(earlier);
        }
        assertThat(node1.events().recent()).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(
                AuthEvent.HandshakeSucceeded.class, ok -> assertThat(ok.key()).isEqualTo(PAIR)));
        assertThat(node2.authMap().entries()).as("nothing is required on node-2").isEmpty();
        assertThat(node1.authMap().entries()).extracting(AuthEntry::key).containsExactly(PAIR); // none for the xwing
        assertThat(node2.handshakesAccepted()).isPositive();
    }

    @Test
    void deletingTheTiefightersEntryInSpireDeletesItsAuthEntriesWithSvidRemoved() throws Exception {
        long before = svidRemovedDeletions(node1);
        spire.server().deleteEntry(identityEntry(1002).getId());
        eventually("node-1 dropped " + PAIR, Duration.ofSeconds(30), () -> svidRemovedDeletions(node1) > before);
        assertThat(present(node1, PAIR)).isFalse();
    }

    @Test
    void aKilledSpireAgentLeavesSvidsAndEntriesInPlaceStatusSaysWhatToCheckAndItCatchesUpOnRestart() throws Exception {
        Path sock1 = dir.resolve("node-1.sock");
        long before = svidRemovedDeletions(node1);
        spire.agent("node-1").kill();
        try {
            eventually("status says SPIRE is not connected", Duration.ofSeconds(20), () -> !spireConnected(sock1));
            CliRun status = CliRun.of("status", "--status-socket", sock1.toString());
            assertThat(status.code()).isEqualTo(ExitCodes.FAILURE);
            assertThat(status.out()).contains("NOT CONNECTED").contains("SPIRE agent not connected at " + spire.agent("node-1").adminSocket())
                    .contains("is the SPIRE agent running").contains("SVIDs held are served until they expire");
            assertThat(present(node1, PAIR)).as("the entry stays while its SVIDs are valid").isTrue();
            assertThat(node1.view().identities().svid(1001)).isPresent();
            assertThat(node1.view().identities().svid(1002)).isPresent();
            // Meanwhile the tiefighter's entry goes: node-1 must learn it once its SPIRE agent is back.
            spire.server().deleteEntry(identityEntry(1002).getId());
            eventually("node-2 lost the tiefighter", Duration.ofSeconds(30),
                    () -> node2.view().identities().svid(1002).isEmpty());
            assertThat(present(node1, PAIR)).as("node-1 cannot know yet").isTrue();
        } finally {
            spire.agent("node-1").start();
        }
        eventually("status says SPIRE is connected again", Duration.ofSeconds(30), () -> spireConnected(sock1));
        eventually("node-1 caught up and dropped " + PAIR, Duration.ofSeconds(30), () -> svidRemovedDeletions(node1) > before);
        assertThat(present(node1, PAIR)).isFalse();
    }

    @Test
    void aKilledAndRestartedSpireServerLosesNothing() throws Exception {
        List<String> before = spire.entries().stream().map(Entry::getId).sorted().toList();
        long deletions = deletions(node1);
        spire.server().kill();
        try {
            // The agents keep serving what they hold: nothing is withdrawn while the server is away.
            holds("node-1 keeps the pair and the SVIDs while the server is down", Duration.ofSeconds(8), Duration.ofMillis(200),
                    () -> present(node1, PAIR) && node1.view().identities().svid(1002).isPresent());
            assertThat(deletions(node1)).isEqualTo(deletions);
        } finally {
            spire.server().start();
        }
        assertThat(spire.entries().stream().map(Entry::getId).sorted().toList()).isEqualTo(before);
        CliRun again = CliRun.of("operator", "--once", "--registration", "cluster", "--spire-server-socket", spire.server().apiSocket().toString(),
                "--endpoints", files.endpoints().toString());
        assertThat(again.out()).contains("created=0 updated=0 deleted=0 unchanged=3 failures=0");
        // The agents are connected again: a change made now still reaches node-1.
        spire.server().deleteEntry(identityEntry(1002).getId());
        eventually("node-1 follows the server after its restart", Duration.ofSeconds(40), () -> !present(node1, PAIR));
        assertThat(deletions(node1)).isEqualTo(deletions + 1);
    }

    @Test
    void anAgentThatIsNotAnAuthorizedDelegateKeepsRetryingAndSaysToFixAuthorizedDelegatesWithoutAStackTrace()
            throws Exception {
        Logger log = (Logger) LoggerFactory.getLogger(DelegatedIdentityClient.class);
        ListAppender<ILoggingEvent> logs = new ListAppender<>();
        logs.start();
        log.addAppender(logs);
        StarWarsFiles other = StarWarsFiles.write(java.nio.file.Files.createDirectory(dir.resolve("node-3")), true);
        Path sock3 = dir.resolve("node-3.sock");
        try (Agent refused = Agent.start(config("node-1", other, "node-3", sock3), InstantSource.system())) {
            eventually("status says why", Duration.ofSeconds(20),
                    () -> CliRun.of("status", "--status-socket", sock3.toString()).out()
                    .contains("caller not configured as an authorized delegate"));
            CliRun status = CliRun.of("status", "--status-socket", sock3.toString());
            assertThat(status.code()).isEqualTo(ExitCodes.FAILURE);
            assertThat(status.out()).contains("authorized_delegates");
            assertThat(refused.view().identities().svids()).isEmpty();
            assertThat(refused.authMap().entries()).isEmpty();
        } finally {
            log.detachAppender(logs);
        }
        List<ILoggingEvent> refusals = logs.list.stream().filter(e -> fields(e).contains("authorized_delegates")).toList();
        assertThat(refusals).isNotEmpty().allSatisfy(e -> {
            assertThat(e.getThrowableProxy()).as("no stack trace").isNull();
            assertThat(fields(e)).contains("admin_socket=" + spire.agent("node-3").adminSocket());
        });
        assertThat(refusals.size()).as("retries back off, they do not spam").isLessThan(20);
    }

    /** A log event's key-value pairs, as "key=value" joined by spaces (the fields JSON logs index). */
    private static String fields(ILoggingEvent e) {
        return e.getKeyValuePairs() == null ? "" : e.getKeyValuePairs().stream().map(kv -> kv.key + "=" + kv.value)
                .collect(java.util.stream.Collectors.joining(" "));
    }

    /** {@code meshauth status -o json}'s {@code spire.connected}. */
    private static boolean spireConnected(Path socket) {
        try {
            return new com.fasterxml.jackson.databind.ObjectMapper().readTree(CliRun.of("status", "--status-socket",
                    socket.toString(), "-o", "json").out()).path("spire").path("connected").asBoolean();
        } catch (java.io.IOException e) {
            return false;
        }
    }

    @Test
    void aSpireAgentThatDoesNotReceiveTheIdentityEntriesParentLeavesTheAgentWithoutSvidsAndStatusSaysWhy() throws Exception {
        StarWarsFiles other = StarWarsFiles.write(java.nio.file.Files.createDirectory(dir.resolve("node-4")), true);
        Path sock4 = dir.resolve("node-4.sock");
        try (Agent orphan = Agent.start(config("node-1", other, "node-4", sock4), InstantSource.system())) {
            eventually("connected to node-4's SPIRE agent", Duration.ofSeconds(20), () -> spireConnected(sock4));
            CliRun status = CliRun.of("status", "--status-socket", sock4.toString());
            assertThat(status.code()).isEqualTo(ExitCodes.FAILURE);
            assertThat(status.out()).contains("no SVIDs held although this node runs endpoints")
                    .contains("spiffe://spiffe.cilium/cilium-operator");
            assertThat(orphan.view().identities().svids()).isEmpty();
        }
    }

    private static Entry identityEntry(long identity) throws Exception {
        return spire.entries().stream().filter(e -> e.getSpiffeId().getPath().equals("/identity/" + identity)).findFirst()
                .orElseThrow();
    }

    /**
     * Deletions of the pair with reason svid-removed so far (the agents live across this class's tests: count
     * from a mark). Events follow the kernel write they report: once it grows, the map no longer has the pair.
     */
    private static long svidRemovedDeletions(Agent a) {
        return a.events().recent().stream().filter(e -> e instanceof AuthEvent.EntryDeleted d && d.key().equals(PAIR)
                && d.reason() == GcReason.SVID_REMOVED).count();
    }

    private static long deletions(Agent a) {
        return a.events().recent().stream().filter(e -> e instanceof AuthEvent.EntryDeleted).count();
    }

    private static boolean present(Agent a, AuthKey k) {
        try {
            return a.authMap().get(k).isPresent();
        } catch (Exception e) {
            return false;
        }
    }

}
