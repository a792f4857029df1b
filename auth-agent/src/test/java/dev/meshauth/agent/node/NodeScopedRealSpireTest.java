package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.node.source.SourceConfig;
import dev.meshauth.agent.operator.EntryOperator;
import dev.meshauth.agent.operator.PlacementSources;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.spire.WireIds;
import dev.meshauth.spire.entry.EntryLayout;
import dev.meshauth.spire.entry.EntryRegistrar;
import dev.meshauth.spire.entry.EntryRegistrarStubs;
import dev.meshauth.spire.entry.ParentTemplate;
import dev.meshauth.spire.entry.RegistrationSpec;
import dev.meshauth.spire.grpc.UnixSockets;
import dev.meshauth.spire.testing.RealSpire;
import dev.meshauth.spire.testing.RealSpireTest;
import io.grpc.ManagedChannel;
import io.spiffe.spiffeid.SpiffeId;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import spire.api.types.EntryOuterClass.Entry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;
import java.util.stream.Collectors;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Least privilege against the real SPIRE: one {@code spire-server}, two {@code spire-agent}s attested with
 * their own join tokens (aliases {@code /node/node-1}, {@code /node/node-2}), the operator's loop with the
 * node-scoped layout over an endpoints file, and two meshauth agents, each its SPIRE agent's delegate. Each
 * node holds the keys of the identities it hosts and no other; placements follow endpoints across nodes,
 * with the grace; an operator restarted mid-change converges to the same entries and leaves a hand-made one.
 * The tests run in order, each from the state the previous one left.
 */
@RealSpireTest
@org.junit.jupiter.api.TestMethodOrder(org.junit.jupiter.api.MethodOrderer.OrderAnnotation.class)
class NodeScopedRealSpireTest {
    private static final Duration GRACE = Duration.ofSeconds(4);
    private static final Duration SYNC = Duration.ofSeconds(Long.parseLong(System.getenv().getOrDefault("MESHAUTH_SPIRE_SYNC_SECONDS", "1")));
    private static final AuthKey DEATHSTAR_TIEFIGHTER = new AuthKey(1001, 1002, 2, AuthType.SPIRE);
    private static final AuthKey DEATHSTAR_INTERCEPTOR = new AuthKey(1001, 1004, 2, AuthType.SPIRE);

    @RegisterExtension
    static final RealSpire spire = RealSpire.nodes("node-1", "node-2").syncInterval(SYNC).cacheReload(SYNC).build();
    @TempDir
    static Path dir;
    private static Path endpoints;
    private static Path policy;
    private static int port;
    private static EntryRegistrar registrar;
    private static ManagedChannel channel;
    private static EntryOperator operator;
    private static Agent node1;
    private static Agent node2;

    private static final String NODES = """
            nodes:
              - {name: node-1, id: 1, internalIP: 127.0.0.1}
              - {name: node-2, id: 2, internalIP: 127.0.0.2}
            endpoints:
            """;
    private static final String DEATHSTAR =
            "  - {name: deathstar, node: node-1, ipv4: 198.18.1.10, identity: 1001, labels: {org: empire, class: deathstar}}\n";
    private static final String TIEFIGHTER =
            "  - {name: tiefighter, node: node-2, ipv4: 198.18.2.20, identity: 1002, labels: {org: empire, class: tiefighter}}\n";
    private static final String XWING =
            "  - {name: xwing, node: node-2, ipv4: 198.18.2.30, identity: 1003, labels: {org: alliance, class: xwing}}\n";
    private static final String INTERCEPTOR =
            "  - {name: interceptor, node: node-2, ipv4: 198.18.2.40, identity: 1004, labels: {org: empire, class: interceptor}}\n";
    private static final String DEATHSTAR_ON_2 =
            "  - {name: deathstar-2, node: node-2, ipv4: 198.18.2.10, identity: 1001, labels: {org: empire, class: deathstar}}\n";

    private static void place(String... endpointLines) throws IOException {
        Path tmp = dir.resolve("endpoints.yaml.tmp");
        Files.writeString(tmp, NODES + String.join("", endpointLines));
        Files.move(tmp, endpoints, java.nio.file.StandardCopyOption.ATOMIC_MOVE, java.nio.file.StandardCopyOption.REPLACE_EXISTING);
    }

    private static EntryOperator startOperator() {
        return EntryOperator.start(changed -> PlacementSources.endpointsFile(endpoints, Optional.empty()), registrar, GRACE,
                InstantSource.system(), Duration.ofMillis(300));
    }

    private static AgentConfig config(String node) {
        AuthManagerOptions opts = new AuthManagerOptions(1024, Duration.ofSeconds(1), 4, Duration.ofMillis(100),
                Duration.ofSeconds(1), Duration.ofMinutes(1));
        return new AgentConfig(node, new SourceConfig.Files(endpoints, List.of(policy), Optional.empty()),
                spire.agent(node).adminSocket(), RealSpire.TD, port, Optional.empty(), false, Duration.ofSeconds(2), opts,
                Duration.ofSeconds(5), Optional.empty(), Optional.empty());
    }

    @BeforeAll
    static void start() throws Exception {
        StarWarsFiles files = StarWarsFiles.write(Files.createDirectories(dir.resolve("sw")), true);
        policy = files.policy();
        port = files.port();
        endpoints = dir.resolve("endpoints.yaml");
        place(DEATHSTAR, TIEFIGHTER, XWING);
        channel = UnixSockets.channel(spire.server().apiSocket(), 32 << 20);
        registrar = new EntryRegistrar(EntryRegistrarStubs.blocking(channel), RegistrationSpec.ciliumDefaults(RealSpire.TD),
                new EntryLayout.NodeScoped(new ParentTemplate(ParentTemplate.NODE_ALIAS, RealSpire.TD, "default"),
                        RealSpire.OPERATOR));
        operator = startOperator();
        node1 = Agent.start(config("node-1"), InstantSource.system());
        node2 = Agent.start(config("node-2"), InstantSource.system());
    }

    @AfterAll
    static void stop() {
        for (AutoCloseable c : new AutoCloseable[] {node2, node1, operator}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // closing the rest matters more
            }
        }
        if (channel != null) {
            channel.shutdownNow();
        }
    }

    private static Set<Long> held(Agent a) {
        return new TreeSet<>(a.view().identities().svids().keySet());
    }

    private static boolean present(Agent a, AuthKey k) {
        try {
            return a.authMap().get(k).isPresent();
        } catch (Exception e) {
            return false;
        }
    }

    /** identity@parent-path of every identity entry in SPIRE, whoever made it. */
    private static Set<String> identityEntries() throws Exception {
        return spire.entries().stream().filter(e -> e.getSpiffeId().getPath().startsWith("/identity/"))
                .map(e -> e.getSpiffeId().getPath().substring("/identity/".length()) + "@" + e.getParentId().getPath())
                .collect(Collectors.toCollection(TreeSet::new));
    }

    @Test
    @org.junit.jupiter.api.Order(1)
    void eachNodeHoldsExactlyTheKeysOfTheIdentitiesItHostsAndThePairAuthenticates() throws Exception {
        eventually("node-1 authenticated (deathstar, tiefighter)", Duration.ofSeconds(40), () -> present(node1, DEATHSTAR_TIEFIGHTER));
        assertThat(identityEntries()).containsExactly("1001@/node/node-1", "1002@/node/node-2", "1003@/node/node-2");
        eventually("node-2 holds the tiefighter's and the xwing's keys", Duration.ofSeconds(30),
                () -> held(node2).equals(Set.of(1002L, 1003L)));
        assertThat(held(node1)).as("node-1 hosts only the deathstar").containsExactly(1001L);
        assertThat(held(node2)).as("node-2 never received the deathstar's key").containsExactly(1002L, 1003L);
    }

    @Test
    @org.junit.jupiter.api.Order(2)
    void aNewEndpointOnNode2GetsItsKeyThereAndItsPairIsAuthenticated() throws Exception {
        long scheduled = System.nanoTime();
        place(DEATHSTAR, TIEFIGHTER, XWING, INTERCEPTOR);
        eventually("node-2 holds the interceptor's key", Duration.ofSeconds(40), () -> held(node2).contains(1004L));
        long svidHeld = System.nanoTime();
        eventually("node-1 authenticated (deathstar, interceptor)", Duration.ofSeconds(40),
                () -> present(node1, DEATHSTAR_INTERCEPTOR));
        long authenticated = System.nanoTime();
        assertThat(held(node1)).as("node-1 still holds only its own").containsExactly(1001L);
        assertThat(identityEntries()).contains("1004@/node/node-2").doesNotContain("1004@/node/node-1");
        System.out.printf("NODE-SCOPED new endpoint on node-2: scheduled to SVID held %d ms, to authenticated on node-1 %d ms"
                        + " (SPIRE agent sync and server cache reload every %d s)%n", (svidHeld - scheduled) / 1_000_000,
                (authenticated - scheduled) / 1_000_000, SYNC.toSeconds());
    }

    @Test
    @org.junit.jupiter.api.Order(3)
    void theLastEndpointOfAnIdentityLeavingANodeTakesItsKeyAfterTheGraceAndItsEntriesAtOnce() throws Exception {
        place(DEATHSTAR_ON_2, TIEFIGHTER, XWING, INTERCEPTOR); // the deathstar moves from node-1 to node-2
        // The reconcile that registered it on node-2 kept node-1's, for the grace (seconds, against a poll of ms).
        eventually("the operator registered the deathstar on node-2", Duration.ofSeconds(10),
                () -> identityEntries().contains("1001@/node/node-2"));
        assertThat(identityEntries()).as("within the grace, node-1's entry for the deathstar stays").contains("1001@/node/node-1");
        eventually("node-1's auth entries for the deathstar are gone", Duration.ofSeconds(20),
                () -> !present(node1, DEATHSTAR_TIEFIGHTER) && !present(node1, DEATHSTAR_INTERCEPTOR));
        eventually("after the grace, node-1 no longer holds the deathstar's key", Duration.ofSeconds(40),
                () -> !held(node1).contains(1001L));
        assertThat(identityEntries()).doesNotContain("1001@/node/node-1").contains("1001@/node/node-2");
        eventually("node-2 holds it now", Duration.ofSeconds(40), () -> held(node2).contains(1001L));
        eventually("and authenticated the deathstar's pairs there, ahead of traffic", Duration.ofSeconds(40),
                () -> present(node2, new AuthKey(1001, 1002, 0, AuthType.SPIRE)) && present(node2, new AuthKey(1001, 1004, 0, AuthType.SPIRE)));
        assertThat(held(node1)).isEmpty();
    }

    @Test
    @org.junit.jupiter.api.Order(4)
    void anOperatorRestartedMidChangeConvergesToTheSameEntriesAndLeavesAHandMadeOne() throws Exception {
        String handMade = spire.server().createEntry(SpiffeId.parse("spiffe://spiffe.cilium/team/payments"),
                SpiffeId.parse("spiffe://spiffe.cilium/identity/1004"), List.of("cilium:mutual-auth"));
        operator.close();
        place(DEATHSTAR, TIEFIGHTER, XWING); // changed while no operator runs: back to node-1, no interceptor
        operator = startOperator();
        eventually("the restarted operator placed the deathstar on node-1 again", Duration.ofSeconds(10),
                () -> identityEntries().contains("1001@/node/node-1"));
        assertThat(identityEntries()).as("entries it no longer wants, found at start, keep their grace")
                .contains("1004@/node/node-2", "1001@/node/node-2");
        eventually("converged once the grace ended", Duration.ofSeconds(30), () -> identityEntries().equals(Set.of(
                "1001@/node/node-1", "1002@/node/node-2", "1003@/node/node-2", "1004@/team/payments")));
        assertThat(spire.entries()).extracting(Entry::getId).as("the hand-made entry survives").contains(handMade);
        // A second operator over the same file finds nothing to do: the full reconcile is idempotent.
        assertThat(registrar.reconcile(registrar.layout().registrations(PlacementSources.readHosts(endpoints, Optional.empty())))
                .calls()).isZero();
        eventually("node-1 authenticated (deathstar, tiefighter) again", Duration.ofSeconds(40),
                () -> present(node1, DEATHSTAR_TIEFIGHTER));
        assertThat(WireIds.fromProto(spire.entries().stream().filter(e -> e.getId().equals(handMade)).findFirst().orElseThrow()
                .getParentId())).hasToString("spiffe://spiffe.cilium/team/payments");
    }
}
