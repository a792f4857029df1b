package dev.meshauth.spire.entry;

import dev.meshauth.spire.WireIds;
import dev.meshauth.spire.testing.DevSpire;
import io.grpc.CallOptions;
import io.grpc.Channel;
import io.grpc.ClientCall;
import io.grpc.ClientInterceptor;
import io.grpc.MethodDescriptor;
import io.spiffe.spiffeid.SpiffeId;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import spire.api.server.entry.v1.EntryGrpc;
import spire.api.server.entry.v1.EntryOuterClass.BatchCreateEntryRequest;
import spire.api.server.entry.v1.EntryOuterClass.ListEntriesRequest;
import spire.api.types.EntryOuterClass.Entry;
import spire.api.types.SelectorOuterClass.Selector;

import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import static org.assertj.core.api.Assertions.assertThat;

/** The operator's reconcile against the dev server's Entry API. */
class EntryRegistrarTest {
    private DevSpire devSpire;
    private final RegistrationSpec spec = RegistrationSpec.ciliumDefaults(DevSpire.TD);
    private static final SpiffeId OPERATOR = RegistrationSpec.ciliumOperator(DevSpire.TD);
    private static final EntryLayout CLUSTER = new EntryLayout.ClusterWide(OPERATOR);
    private static final EntryLayout BY_NODE = new EntryLayout.NodeScoped(
            new ParentTemplate(ParentTemplate.NODE_ALIAS, DevSpire.TD, "default"), OPERATOR);
    private static final NodeRef N1 = NodeRef.named("node-1");
    private static final NodeRef N2 = NodeRef.named("node-2");
    private Set<String> preexisting; // the agent's own entry, which the dev server registers

    @BeforeEach
    void setUp() throws Exception {
        devSpire = DevSpire.start(InstantSource.system());
        preexisting = Set.copyOf(devSpire.entries().listEntries(ListEntriesRequest.getDefaultInstance()).getEntriesList()
                .stream().map(Entry::getId).toList());
    }

    @AfterEach
    void tearDown() throws Exception {
        devSpire.close();
    }

    /** The entries the test made or the registrar manages: all but the preexisting agent entry. */
    private List<Entry> all() {
        return devSpire.entries().listEntries(ListEntriesRequest.getDefaultInstance()).getEntriesList().stream()
                .filter(e -> !preexisting.contains(e.getId())).toList();
    }

    @Test
    void createsIsIdempotentAndRemovesStaleOnes() {
        EntryRegistrar r = new EntryRegistrar(devSpire.entries(), spec, CLUSTER);
        ReconcileResult first = r.reconcileIdentities(Set.of(1000L, 2000L, 3000L));
        assertThat(first.created()).isEqualTo(3);
        assertThat(all()).extracting(e -> e.getSpiffeId().getPath())
                .containsExactlyInAnyOrder("/identity/1000", "/identity/2000", "/identity/3000");
        assertThat(all()).allSatisfy(e -> {
            assertThat(e.getParentId().getPath()).isEqualTo("/cilium-operator");
            assertThat(e.getSelectorsList()).containsExactly(Selector.newBuilder().setType("cilium").setValue("mutual-auth").build());
        });

        ReconcileResult second = r.reconcileIdentities(Set.of(1000L, 2000L, 3000L));
        assertThat(second.calls()).as("an idempotent pass changes nothing").isZero();
        assertThat(second.unchanged()).isEqualTo(3);

        ReconcileResult third = r.reconcileIdentities(Set.of(2000L));
        assertThat(third.deleted()).isEqualTo(2);
        assertThat(all()).extracting(e -> e.getSpiffeId().getPath()).containsExactly("/identity/2000");
    }

    @Test
    void foreignEntriesAreNeverTouched() {
        Entry agent = Entry.newBuilder().setSpiffeId(WireIds.toProto(SpiffeId.parse("spiffe://spiffe.cilium/cilium-agent")))
                .setParentId(WireIds.toProto(SpiffeId.parse("spiffe://spiffe.cilium/node")))
                .addSelectors(Selector.newBuilder().setType("k8s").setValue("sa:cilium")).build();
        // Same parent and selector, but not an identity path; and an identity path with an extra selector.
        Entry oddPath = spec.desired(new Registration(5, OPERATOR)).toBuilder().setSpiffeId(WireIds.toProto(SpiffeId.parse("spiffe://spiffe.cilium/other")))
                .build();
        Entry extraSelector = spec.desired(new Registration(6, OPERATOR)).toBuilder().addSelectors(Selector.newBuilder().setType("k8s").setValue("ns:x"))
                .build();
        devSpire.entries().batchCreateEntry(BatchCreateEntryRequest.newBuilder().addEntries(agent).addEntries(oddPath)
                .addEntries(extraSelector).build());

        new EntryRegistrar(devSpire.entries(), spec, CLUSTER).reconcileIdentities(Set.of());

        assertThat(all()).hasSize(3);
        assertThat(devSpire.entries().listEntries(ListEntriesRequest.getDefaultInstance()).getEntriesList())
                .extracting(Entry::getId).containsAll(preexisting).hasSize(3 + preexisting.size());
    }

    @Test
    void alreadyExistsIsAdoptedWithItsRealId() {
        // Another creator writes the entry between our list and our create.
        AtomicBoolean raced = new AtomicBoolean();
        AtomicInteger updates = new AtomicInteger();
        RegistrationSpec withTtl = new RegistrationSpec(spec.trustDomain(), spec.selector(), 600);
        ClientInterceptor racer = new ClientInterceptor() {
            @Override
            public <Q, R> ClientCall<Q, R> interceptCall(MethodDescriptor<Q, R> method, CallOptions options, Channel next) {
                if (method.getBareMethodName().equals("BatchCreateEntry") && raced.compareAndSet(false, true)) {
                    devSpire.entries().batchCreateEntry(BatchCreateEntryRequest.newBuilder().addEntries(spec.desired(new Registration(42, OPERATOR))).build());
                }
                if (method.getBareMethodName().equals("BatchUpdateEntry")) {
                    updates.incrementAndGet();
                }
                return next.newCall(method, options);
            }
        };
        EntryGrpc.EntryBlockingStub stub = devSpire.entries().withInterceptors(racer);

        ReconcileResult r = new EntryRegistrar(stub, withTtl, CLUSTER).reconcileIdentities(Set.of(42L));

        assertThat(r.failures()).isEmpty();
        assertThat(r.created()).isZero();
        assertThat(r.updated()).as("the adopted entry had TTL 0; we want 600: updated by its id").isEqualTo(1);
        assertThat(updates.get()).isEqualTo(1);
        assertThat(all()).singleElement().satisfies(e -> assertThat(e.getX509SvidTtl()).isEqualTo(600));
    }

    @Test
    void paginatesAndChunksThousandsOfEntries() {
        Set<Long> ids = LongStream.rangeClosed(1, 1_234).boxed().collect(Collectors.toSet());
        EntryRegistrar r = new EntryRegistrar(devSpire.entries(), spec, CLUSTER);
        ReconcileResult created = r.reconcileIdentities(ids);
        assertThat(created.created()).isEqualTo(1_234);
        assertThat(created.calls()).isEqualTo(7); // ceil(1234 / 200)
        assertThat(r.owned()).hasSize(1_234); // read back through 3 pages of 500
        assertThat(r.reconcileIdentities(ids).calls()).isZero();
    }

    private List<String> placements() {
        return all().stream().map(e -> e.getSpiffeId().getPath() + "@" + e.getParentId().getPath()).sorted().toList();
    }

    @Test
    void nodeScopedRegistersOneEntryPerHostingNodeAndFollowsEndpointsAcrossNodes() {
        EntryRegistrar r = new EntryRegistrar(devSpire.entries(), spec, BY_NODE);
        ReconcileResult first = r.reconcile(BY_NODE.registrations(Map.of(1001L, Set.of(N1), 1002L, Set.of(N1, N2))));
        assertThat(first.created()).isEqualTo(3);
        assertThat(placements()).containsExactly("/identity/1001@/node/node-1", "/identity/1002@/node/node-1",
                "/identity/1002@/node/node-2");
        assertThat(r.reconcile(BY_NODE.registrations(Map.of(1001L, Set.of(N1), 1002L, Set.of(N1, N2)))).calls())
                .as("idempotent").isZero();

        ReconcileResult moved = r.reconcile(BY_NODE.registrations(Map.of(1001L, Set.of(N2), 1002L, Set.of(N2))));
        assertThat(moved.created()).isEqualTo(1);
        assertThat(moved.deleted()).isEqualTo(2);
        assertThat(placements()).containsExactly("/identity/1001@/node/node-2", "/identity/1002@/node/node-2");
    }

    @Test
    void nodeScopedRemovesTheClusterWideEntriesItOwnsAndNothingElse() {
        new EntryRegistrar(devSpire.entries(), spec, CLUSTER).reconcileIdentities(Set.of(1001L, 1002L));
        Entry byHand = spec.desired(new Registration(1003, SpiffeId.parse("spiffe://spiffe.cilium/team/payments")));
        Entry otherSelector = spec.desired(new Registration(1004, SpiffeId.parse("spiffe://spiffe.cilium/node/node-1")))
                .toBuilder().clearSelectors().addSelectors(Selector.newBuilder().setType("unix").setValue("uid:0")).build();
        devSpire.entries().batchCreateEntry(BatchCreateEntryRequest.newBuilder().addEntries(byHand).addEntries(otherSelector).build());

        ReconcileResult r = new EntryRegistrar(devSpire.entries(), spec, BY_NODE)
                .reconcile(BY_NODE.registrations(Map.of(1001L, Set.of(N1))));

        assertThat(r.deleted()).as("both cluster-wide entries").isEqualTo(2);
        assertThat(placements()).containsExactly("/identity/1001@/node/node-1", "/identity/1003@/team/payments",
                "/identity/1004@/node/node-1");
    }
}
