package dev.meshauth.agent.cli;

import dev.meshauth.spire.WireIds;
import dev.meshauth.spire.entry.EntryLayout;
import dev.meshauth.spire.entry.EntryRegistrar;
import dev.meshauth.spire.entry.ReconcileResult;
import dev.meshauth.spire.entry.RegistrationSpec;
import dev.meshauth.spire.grpc.UnixSockets;
import dev.meshauth.spire.testing.RealSpire;
import dev.meshauth.spire.testing.RealSpireTest;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.ManagedChannel;
import io.grpc.MethodDescriptor;
import io.spiffe.spiffeid.SpiffeId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.io.TempDir;
import spire.api.server.entry.v1.EntryGrpc;
import spire.api.types.EntryOuterClass.Entry;
import spire.api.types.SelectorOuterClass.Selector;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code meshauth operator} against the real {@code spire-server}: over its API socket, and over TCP with
 * mutual TLS and {@code admin_ids} as Cilium's operator reaches it. Every check reads SPIRE's own view
 * ({@code spire-server entry show -output json}). node-1's Workload API issues this process the operator's
 * identity (an admin); node-2's issues it another one (not an admin).
 */
@RealSpireTest
class OperatorRealSpireTest {
    private static final SpiffeId NOT_ADMIN = SpiffeId.parse("spiffe://spiffe.cilium/not-an-admin");
    private static final Selector MUTUAL_AUTH = Selector.newBuilder().setType("cilium").setValue("mutual-auth").build();

    @RegisterExtension
    static final RealSpire spire = RealSpire.nodes().node("node-1", List.of()).node("node-2", List.of())
            .adminIds(RealSpire.OPERATOR).noDelegateEntries().build();

    @BeforeAll
    static void identities() throws Exception {
        spire.spire().register("node-1", RealSpire.OPERATOR, List.of(RealSpire.uidSelector()));
        spire.spire().register("node-2", NOT_ADMIN, List.of(RealSpire.uidSelector()));
        spire.agent("node-1").awaitSvid(RealSpire.OPERATOR, Duration.ofSeconds(30));
        spire.agent("node-2").awaitSvid(NOT_ADMIN, Duration.ofSeconds(30));
    }

    @AfterEach
    void removeIdentityEntries() throws Exception {
        for (Entry e : spire.entries()) {
            if (e.getSpiffeId().getPath().startsWith("/identity/") || e.getSpiffeId().getPath().equals("/someone")) {
                spire.server().deleteEntry(e.getId());
            }
        }
    }

    private static Path endpoints(Path dir, long... identities) throws Exception {
        StringBuilder sb = new StringBuilder("nodes:\n  - {name: node-1, id: 1, internalIP: 127.0.0.1}\nendpoints:\n");
        for (long id : identities) {
            sb.append("  - {name: pod-").append(id).append(", node: node-1, ipv4: 198.18.1.").append(id % 250)
                    .append(", identity: ").append(id).append(", labels: {app: a").append(id).append("}}\n");
        }
        return Files.writeString(dir.resolve("endpoints-" + identities.length + ".yaml"), sb.toString());
    }

    /** Identity entries by identity, as SPIRE shows them. */
    private static Map<Long, Entry> identityEntries() throws Exception {
        return spire.entries().stream().filter(e -> e.getSpiffeId().getPath().startsWith("/identity/"))
                .collect(Collectors.toMap(e -> Long.parseLong(e.getSpiffeId().getPath().substring("/identity/".length())),
                        e -> e));
    }

    @Test
    void onceRegistersOneEntryPerIdentityIsIdempotentAdoptsAndLeavesOthersAlone(@TempDir Path dir) throws Exception {
        // Before: somebody else's entry, and an identity entry exactly as the operator would make it.
        String foreign = spire.server().createEntry(spire.agent("node-1").nodeAlias(), SpiffeId.parse("spiffe://spiffe.cilium/someone"),
                List.of("unix:uid:1234"));
        String adopted = spire.server().createEntry(RealSpire.OPERATOR, SpiffeId.parse("spiffe://spiffe.cilium/identity/1003"),
                List.of("cilium:mutual-auth"));
        String socket = spire.server().apiSocket().toString();

        CliRun first = CliRun.of("operator", "--once", "--registration", "cluster", "--spire-server-socket", socket, "--endpoints",
                endpoints(dir, 1001, 1002, 1003).toString());
        assertThat(first.code()).as(first.err()).isZero();
        assertThat(first.out()).contains("identities=3 created=2 updated=0 deleted=0 unchanged=1 failures=0");
        Map<Long, Entry> entries = identityEntries();
        assertThat(entries).containsOnlyKeys(1001L, 1002L, 1003L);
        assertThat(entries.values()).allSatisfy(e -> {
            assertThat(WireIds.fromProto(e.getParentId())).isEqualTo(RealSpire.OPERATOR);
            assertThat(e.getSelectorsList()).containsExactly(MUTUAL_AUTH);
            assertThat(e.getSpiffeId().getTrustDomain()).isEqualTo("spiffe.cilium");
        });
        assertThat(entries.get(1003L).getId()).as("the existing entry was adopted, not duplicated").isEqualTo(adopted);

        CliRun second = CliRun.of("operator", "--once", "--registration", "cluster", "--spire-server-socket", socket, "--endpoints",
                endpoints(dir, 1001, 1002, 1003).toString());
        assertThat(second.out()).contains("created=0 updated=0 deleted=0 unchanged=3 failures=0");
        assertThat(identityEntries()).isEqualTo(entries); // same ids, same revisions: nothing written

        CliRun shrink = CliRun.of("operator", "--once", "--registration", "cluster", "--spire-server-socket", socket, "--endpoints",
                endpoints(dir, 1001).toString());
        assertThat(shrink.out()).contains("deleted=2");
        assertThat(identityEntries()).containsOnlyKeys(1001L);
        assertThat(spire.entries()).extracting(Entry::getId).as("the foreign entry is untouched").contains(foreign);
    }

    @Test
    void anEntryCreatedBetweenListAndCreateIsAlreadyExistsAndAdoptedByItsRealId() throws Exception {
        ManagedChannel ch = UnixSockets.channel(spire.server().apiSocket(), 32 << 20);
        try {
            RegistrationSpec spec = new RegistrationSpec(RealSpire.TD, MUTUAL_AUTH, 600);
            AtomicBoolean raced = new AtomicBoolean();
            ClientInterceptor racer = new ClientInterceptor() {
                @Override
                public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> m, CallOptions o, Channel next) {
                    if (m.getBareMethodName().equals("BatchCreateEntry") && raced.compareAndSet(false, true)) {
                        try { // another operator replica (TTL 0) gets there first, with SPIRE's own CLI
                            spire.server().createEntry(RealSpire.OPERATOR, SpiffeId.parse("spiffe://spiffe.cilium/identity/42"),
                                    List.of("cilium:mutual-auth"));
                        } catch (Exception e) {
                            throw new IllegalStateException(e);
                        }
                    }
                    return next.newCall(m, o);
                }
            };
            ReconcileResult r = new EntryRegistrar(EntryGrpc.newBlockingStub(ch).withInterceptors(racer), spec,
                    new EntryLayout.ClusterWide(RealSpire.OPERATOR)).reconcileIdentities(Set.of(42L));
            assertThat(r.failures()).isEmpty();
            assertThat(r.created()).isZero();
            assertThat(r.updated()).as("adopted from ALREADY_EXISTS, then its TTL fixed by its real id").isEqualTo(1);
            assertThat(identityEntries().values()).singleElement().satisfies(e -> assertThat(e.getX509SvidTtl()).isEqualTo(600));
        } finally {
            ch.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void overMutualTlsOnlyAnAdminIdMayRegisterAndTheOthersAreToldWhy(@TempDir Path dir) throws Exception {
        Path eps = endpoints(dir, 2001, 2002);
        String address = "127.0.0.1:" + spire.server().address().getPort();
        CliRun admin = CliRun.of("operator", "--once", "--registration", "cluster", "--spire-server-address", address, "--spire-agent-socket",
                spire.agent("node-1").workloadSocket().toString(), "--endpoints", eps.toString());
        assertThat(admin.code()).as(admin.err()).isZero();
        assertThat(admin.out()).contains("identities=2 created=2");
        assertThat(identityEntries()).containsOnlyKeys(2001L, 2002L);

        CliRun denied = CliRun.of("operator", "--once", "--registration", "cluster", "--spire-server-address", address, "--spire-agent-socket",
                spire.agent("node-2").workloadSocket().toString(), "--endpoints", endpoints(dir, 2003).toString());
        assertThat(denied.code()).isEqualTo(ExitCodes.FAILURE);
        assertThat(denied.err()).contains("PERMISSION_DENIED").contains(NOT_ADMIN.toString()).contains("admin_ids")
                .doesNotContain("\tat ");
        assertThat(identityEntries()).containsOnlyKeys(2001L, 2002L);
    }
}
