package dev.meshauth.spire.contract;

import com.google.protobuf.ByteString;
import dev.meshauth.spire.WireIds;
import dev.meshauth.spire.agent.AgentIdentity;
import dev.meshauth.spire.grpc.UnixSockets;
import dev.meshauth.spire.testing.RealSpire;
import dev.meshauth.spire.testing.RealSpireCondition;
import dev.meshauth.spire.testing.RealSpireTest;
import dev.meshauth.spire.testing.StreamRecorder;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.svid.jwtsvid.JwtSvid;
import io.spiffe.workloadapi.DefaultWorkloadApiClient;
import io.spiffe.workloadapi.WorkloadApiClient;
import io.spiffe.workloadapi.X509Source;
import io.spiffe.workloadapi.grpc.SpiffeWorkloadAPIGrpc;
import io.spiffe.workloadapi.grpc.Workload;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.api.extension.TestWatcher;
import org.junit.jupiter.params.AfterParameterizedClassInvocation;
import org.junit.jupiter.params.BeforeParameterizedClassInvocation;
import org.junit.jupiter.params.Parameter;
import org.junit.jupiter.params.ParameterizedClass;
import org.junit.jupiter.params.provider.MethodSource;
import spire.api.agent.delegatedidentity.v1.DelegatedIdentityGrpc;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.FetchJWTSVIDsRequest;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509BundlesRequest;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509BundlesResponse;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509SVIDsRequest;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509SVIDsResponse;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.X509SVIDWithKey;
import spire.api.server.entry.v1.EntryGrpc;
import spire.api.server.entry.v1.EntryOuterClass.BatchCreateEntryRequest;
import spire.api.server.entry.v1.EntryOuterClass.BatchCreateEntryResponse;
import spire.api.server.entry.v1.EntryOuterClass.BatchDeleteEntryRequest;
import spire.api.server.entry.v1.EntryOuterClass.BatchUpdateEntryRequest;
import spire.api.server.entry.v1.EntryOuterClass.CountEntriesRequest;
import spire.api.server.entry.v1.EntryOuterClass.GetEntryRequest;
import spire.api.server.entry.v1.EntryOuterClass.ListEntriesRequest;
import spire.api.server.entry.v1.EntryOuterClass.ListEntriesResponse;
import spire.api.types.EntryOuterClass.Entry;
import spire.api.types.SelectorOuterClass.Selector;
import spire.api.types.SelectorOuterClass.SelectorMatch;

import java.io.ByteArrayInputStream;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.security.KeyFactory;
import java.security.PrivateKey;
import java.security.Signature;
import java.security.cert.CertificateFactory;
import java.security.cert.X509Certificate;
import java.security.spec.PKCS8EncodedKeySpec;
import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * One contract, two SPIREs: every call meshauth makes, on the wire, against the embedded dev server and
 * against the real {@code spire-server} and {@code spire-agent}: the Entry API (create, similar entries,
 * invalid entries, list with filters and pagination, count, get, update, delete), the Delegated Identity
 * API (SVID and bundle streams, removal, request validation, delegate authorization) and the Workload API
 * (X.509 and JWT, the security header, attestation), with java-spiffe's and SPIRE's own CLI as clients
 * besides ours. Where the two differ on purpose, docs/design.md says so; everything here holds for both.
 */
@RealSpireTest
@ParameterizedClass(name = "{0}")
@MethodSource("spires")
class SpireContractTest {
    private static final Selector MUTUAL_AUTH = Selector.newBuilder().setType("cilium").setValue("mutual-auth").build();
    private static final AtomicInteger NEXT = new AtomicInteger(5000);

    @Parameter
    SpireUnderTest spire;

    private ManagedChannel entryChannel;
    private ManagedChannel adminChannel;
    private final List<AutoCloseable> streams = new ArrayList<>();

    static Stream<SpireUnderTest> spires() {
        return Stream.of(new DevSpireUnderTest(), new RealSpireUnderTest());
    }

    @BeforeParameterizedClassInvocation
    static void start(SpireUnderTest s) throws Exception {
        s.start();
    }

    @AfterParameterizedClassInvocation
    static void stop(SpireUnderTest s) throws Exception {
        s.close();
    }

    @RegisterExtension
    final TestWatcher logsOnFailure = new TestWatcher() {
        @Override
        public void testFailed(ExtensionContext context, Throwable cause) {
            System.err.println("---- " + spire + " logs at the failure of " + context.getDisplayName() + " ----\n" + spire.logs());
        }
    };

    @BeforeEach
    void channels() {
        entryChannel = UnixSockets.channel(spire.entryApi(), 32 << 20);
        adminChannel = UnixSockets.channel(spire.adminApi(), 32 << 20);
    }

    @AfterEach
    void closeChannels() throws Exception {
        for (AutoCloseable s : streams) {
            s.close();
        }
        entryChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        adminChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
    }

    private EntryGrpc.EntryBlockingStub entries() {
        return EntryGrpc.newBlockingStub(entryChannel);
    }

    private static SpiffeId id(String path) {
        return SpiffeId.parse("spiffe://spiffe.cilium" + path);
    }

    private Entry identityEntry(long identity) {
        return Entry.newBuilder().setSpiffeId(WireIds.toProto(id("/identity/" + identity)))
                .setParentId(WireIds.toProto(spire.nodeParent())).addSelectors(MUTUAL_AUTH).build();
    }

    private BatchCreateEntryResponse.Result create(Entry e) {
        return entries().batchCreateEntry(BatchCreateEntryRequest.newBuilder().addEntries(e).build()).getResults(0);
    }

    private void delete(String entryId) {
        entries().batchDeleteEntry(BatchDeleteEntryRequest.newBuilder().addIds(entryId).build());
    }

    // ---- Entry API ------------------------------------------------------------------------------------

    @Test
    void createdEntryReadsBackWithItsFields() {
        Entry want = identityEntry(NEXT.incrementAndGet()).toBuilder().setX509SvidTtl(600).build();
        BatchCreateEntryResponse.Result r = create(want);
        assertThat(r.getStatus().getCode()).isZero();
        Entry got = entries().getEntry(GetEntryRequest.newBuilder().setId(r.getEntry().getId()).build());
        assertThat(got.getSpiffeId()).isEqualTo(want.getSpiffeId());
        assertThat(got.getParentId()).isEqualTo(want.getParentId());
        assertThat(got.getSelectorsList()).containsExactly(MUTUAL_AUTH);
        assertThat(got.getX509SvidTtl()).isEqualTo(600);
        delete(got.getId());
    }

    @Test
    void aSimilarEntryIsAlreadyExistsWithTheExistingOne() {
        Entry e = identityEntry(NEXT.incrementAndGet());
        String first = create(e).getEntry().getId();
        BatchCreateEntryResponse.Result again = create(e);
        assertThat(again.getStatus().getCode()).as("ALREADY_EXISTS").isEqualTo(Status.Code.ALREADY_EXISTS.value());
        assertThat(again.getStatus().getMessage()).isEqualTo("similar entry already exists");
        assertThat(again.getEntry().getId()).isEqualTo(first);
        delete(first);
    }

    @Test
    void invalidEntriesAreRefusedPerItemAndTheRestIsCreated() {
        Entry noSelectors = identityEntry(NEXT.incrementAndGet()).toBuilder().clearSelectors().build();
        Entry foreign = identityEntry(1).toBuilder().setSpiffeId(WireIds.toProto(SpiffeId.parse("spiffe://other.td/x")))
                .build();
        Entry reserved = identityEntry(1).toBuilder().setSpiffeId(WireIds.toProto(id("/spire/mine"))).build();
        Entry colon = identityEntry(NEXT.incrementAndGet()).toBuilder().clearSelectors()
                .addSelectors(Selector.newBuilder().setType("a:b").setValue("c")).build();
        Entry good = identityEntry(NEXT.incrementAndGet());
        BatchCreateEntryResponse r = entries().batchCreateEntry(BatchCreateEntryRequest.newBuilder()
                .addEntries(noSelectors).addEntries(foreign).addEntries(reserved).addEntries(colon).addEntries(good).build());
        assertThat(r.getResultsList()).extracting(x -> x.getStatus().getCode())
                .containsExactly(3, 3, 3, 3, 0);
        assertThat(r.getResults(0).getStatus().getMessage()).isEqualTo("failed to convert entry: selector list is empty");
        assertThat(r.getResults(1).getStatus().getMessage()).startsWith("failed to convert entry: invalid spiffe ID: ")
                .contains("is not a member of trust domain \"spiffe.cilium\"");
        assertThat(r.getResults(2).getStatus().getMessage()).startsWith("failed to convert entry: invalid spiffe ID: ")
                .contains("reserved");
        assertThat(r.getResults(3).getStatus().getMessage()).isEqualTo("failed to convert entry: selector type contains ':'");
        delete(r.getResults(4).getEntry().getId());
    }

    @Test
    void listingPaginatesAndFiltersByParentAndExactSelectors() {
        SpiffeId parent = id("/contract/pages-" + NEXT.incrementAndGet());
        List<String> created = new ArrayList<>();
        BatchCreateEntryRequest.Builder batch = BatchCreateEntryRequest.newBuilder();
        for (int i = 0; i < 25; i++) {
            batch.addEntries(identityEntry(NEXT.incrementAndGet()).toBuilder().setParentId(WireIds.toProto(parent)));
        }
        // Same parent, a superset of the selectors: not an exact match.
        batch.addEntries(identityEntry(NEXT.incrementAndGet()).toBuilder().setParentId(WireIds.toProto(parent))
                .addSelectors(Selector.newBuilder().setType("k8s").setValue("ns:x")));
        entries().batchCreateEntry(batch.build()).getResultsList().forEach(r -> {
            assertThat(r.getStatus().getCode()).isZero();
            created.add(r.getEntry().getId());
        });
        ListEntriesRequest.Filter filter = ListEntriesRequest.Filter.newBuilder().setByParentId(WireIds.toProto(parent))
                .setBySelectors(SelectorMatch.newBuilder().addSelectors(MUTUAL_AUTH)
                        .setMatch(SelectorMatch.MatchBehavior.MATCH_EXACT)).build();
        Set<String> seen = new HashSet<>();
        List<Integer> pageSizes = new ArrayList<>();
        String token = "";
        do {
            ListEntriesResponse page = entries().listEntries(ListEntriesRequest.newBuilder().setFilter(filter).setPageSize(10)
                    .setPageToken(token).build());
            pageSizes.add(page.getEntriesCount());
            page.getEntriesList().forEach(e -> seen.add(e.getId()));
            token = page.getNextPageToken();
        } while (!token.isEmpty() && pageSizes.size() < 10);
        assertThat(seen).hasSize(25).isSubsetOf(created);
        assertThat(pageSizes.subList(0, 3)).containsExactly(10, 10, 5);
        assertThat(entries().countEntries(CountEntriesRequest.newBuilder().setFilter(CountEntriesRequest.Filter.newBuilder()
                .setByParentId(WireIds.toProto(parent))).build()).getCount()).isEqualTo(26);
        entries().batchDeleteEntry(BatchDeleteEntryRequest.newBuilder().addAllIds(created).build());
    }

    @Test
    void updateChangesTheEntryByIdAndAnUnknownIdIsNotFound() {
        Entry e = create(identityEntry(NEXT.incrementAndGet())).getEntry();
        var r = entries().batchUpdateEntry(BatchUpdateEntryRequest.newBuilder()
                .addEntries(e.toBuilder().setX509SvidTtl(900)).build()).getResults(0);
        assertThat(r.getStatus().getCode()).isZero();
        Entry after = entries().getEntry(GetEntryRequest.newBuilder().setId(e.getId()).build());
        assertThat(after.getX509SvidTtl()).isEqualTo(900);
        assertThat(after.getRevisionNumber()).isGreaterThan(e.getRevisionNumber());
        var unknown = entries().batchUpdateEntry(BatchUpdateEntryRequest.newBuilder()
                .addEntries(e.toBuilder().setId("00000000-0000-0000-0000-000000000000")).build()).getResults(0);
        assertThat(unknown.getStatus().getCode()).as(unknown.getStatus().getMessage()).isEqualTo(Status.Code.NOT_FOUND.value());
        delete(e.getId());
    }

    @Test
    void deleteIsOkThenNotFoundAndAnEmptyIdIsInvalid() {
        String entryId = create(identityEntry(NEXT.incrementAndGet())).getEntry().getId();
        var r = entries().batchDeleteEntry(BatchDeleteEntryRequest.newBuilder().addIds(entryId).addIds(entryId).addIds("")
                .build());
        assertThat(r.getResultsList()).extracting(x -> x.getStatus().getCode()).containsExactly(0, 5, 3);
        assertThat(r.getResults(1).getStatus().getMessage()).isEqualTo("entry not found");
        assertThat(r.getResults(2).getStatus().getMessage()).isEqualTo("missing entry ID");
        assertThatThrownBy(() -> entries().getEntry(GetEntryRequest.newBuilder().setId(entryId).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class,
                        x -> assertThat(x.getStatus().getCode()).isEqualTo(Status.Code.NOT_FOUND));
    }

    // ---- Delegated Identity API ---------------------------------------------------------------------------

    private StreamRecorder<SubscribeToX509SVIDsResponse> subscribeSvids(Path admin, List<Selector> selectors, int pid) {
        ManagedChannel ch = admin.equals(spire.adminApi()) ? adminChannel : UnixSockets.channel(admin, 32 << 20);
        if (ch != adminChannel) {
            streams.add(ch::shutdownNow);
        }
        StreamRecorder<SubscribeToX509SVIDsResponse> rec = new StreamRecorder<>();
        streams.add(rec);
        DelegatedIdentityGrpc.newStub(ch).subscribeToX509SVIDs(SubscribeToX509SVIDsRequest.newBuilder()
                .addAllSelectors(selectors).setPid(pid).build(), rec);
        return rec;
    }

    private static boolean holds(SubscribeToX509SVIDsResponse r, SpiffeId id) {
        return r.getX509SvidsList().stream().anyMatch(s -> WireIds.fromProto(s.getX509Svid().getId()).equals(id));
    }

    @Test
    void svidStreamDeliversAnIdentityEntryWithAKeyThatMatchesAndWithdrawsItOnDelete() throws Exception {
        long identity = NEXT.incrementAndGet();
        SpiffeId sid = id("/identity/" + identity);
        var rec = subscribeSvids(spire.adminApi(), List.of(MUTUAL_AUTH), 0);
        assertThat(holds(rec.latest(Duration.ofSeconds(10)), sid)).as("no SVID before its entry").isFalse();
        String entryId = create(identityEntry(identity)).getEntry().getId();

        SubscribeToX509SVIDsResponse withIt = rec.await(r -> holds(r, sid), spire.propagation(), "holding " + sid);
        X509SVIDWithKey svid = withIt.getX509SvidsList().stream()
                .filter(s -> WireIds.fromProto(s.getX509Svid().getId()).equals(sid)).findFirst().orElseThrow();
        X509Certificate leaf = certificate(svid.getX509Svid().getCertChain(0));
        assertThat(leaf.getSubjectAlternativeNames()).extracting(l -> (Object) l.get(1)).containsExactly((Object) sid.toString());
        assertThat(svid.getX509Svid().getExpiresAt()).isEqualTo(leaf.getNotAfter().toInstant().getEpochSecond());
        assertThat(leaf.getBasicConstraints()).as("a leaf").isEqualTo(-1);
        PrivateKey key = KeyFactory.getInstance(leaf.getPublicKey().getAlgorithm())
                .generatePrivate(new PKCS8EncodedKeySpec(svid.getX509SvidKey().toByteArray()));
        Signature sign = Signature.getInstance("SHA256withECDSA");
        sign.initSign(key);
        sign.update(new byte[] {1, 2, 3});
        byte[] sig = sign.sign();
        sign.initVerify(leaf);
        sign.update(new byte[] {1, 2, 3});
        assertThat(sign.verify(sig)).as("the key is the leaf's").isTrue();
        leaf.verify(bundleRoots().getFirst().getPublicKey());

        delete(entryId);
        rec.await(r -> !holds(r, sid), spire.propagation(), "without " + sid + " after its entry was deleted");
    }

    @Test
    void unmatchedSelectorsGiveAnEmptyUpdateNotAnError() throws Exception {
        var rec = subscribeSvids(spire.adminApi(), List.of(Selector.newBuilder().setType("cilium").setValue("nobody").build()), 0);
        assertThat(rec.latest(Duration.ofSeconds(10)).getX509SvidsCount()).isZero();
    }

    @Test
    void bundleStreamIsKeyedBySpiffeTrustDomainIdAndHoldsTheRootsOfTheWorkloadApi() throws Exception {
        List<X509Certificate> roots = bundleRoots();
        try (X509Source source = AgentIdentity.connect(spire.workloadApi(), Duration.ofSeconds(30))) {
            assertThat(roots).containsExactlyInAnyOrderElementsOf(
                    source.getBundleForTrustDomain(RealSpire.TD).getX509Authorities());
        }
    }

    private List<X509Certificate> bundleRoots() throws Exception {
        StreamRecorder<SubscribeToX509BundlesResponse> rec = new StreamRecorder<>();
        streams.add(rec);
        DelegatedIdentityGrpc.newStub(adminChannel).subscribeToX509Bundles(SubscribeToX509BundlesRequest.getDefaultInstance(),
                rec);
        SubscribeToX509BundlesResponse b = rec.latest(Duration.ofSeconds(10));
        assertThat(b.getCaCertificatesMap()).containsOnlyKeys("spiffe://spiffe.cilium");
        return certificates(b.getCaCertificatesMap().get("spiffe://spiffe.cilium"));
    }

    @Test
    void requestsNeedSelectorsOrAPidButNotBothAndWellFormedSelectors() throws Exception {
        Selector bad = Selector.newBuilder().setType("cilium:x").setValue("y").build();
        assertThat(subscribeSvids(spire.adminApi(), List.of(MUTUAL_AUTH), 42).awaitEnd(Duration.ofSeconds(10)))
                .satisfies(s -> assertStatus(s, Status.Code.INVALID_ARGUMENT,
                        "must provide either selectors or non-zero PID, but not both"));
        assertThat(subscribeSvids(spire.adminApi(), List.of(), 0).awaitEnd(Duration.ofSeconds(10)))
                .satisfies(s -> assertStatus(s, Status.Code.INVALID_ARGUMENT,
                        "must provide either selectors or non-zero PID, but not both"));
        assertThat(subscribeSvids(spire.adminApi(), List.of(bad), 0).awaitEnd(Duration.ofSeconds(10)))
                .satisfies(s -> assertStatus(s, Status.Code.INVALID_ARGUMENT, "could not parse provided selectors"));
        assertThatThrownBy(() -> DelegatedIdentityGrpc.newBlockingStub(adminChannel).fetchJWTSVIDs(
                FetchJWTSVIDsRequest.newBuilder().addSelectors(MUTUAL_AUTH).build()))
                .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertStatus(e.getStatus(),
                        Status.Code.INVALID_ARGUMENT, "audience must be specified"));
    }

    @Test
    void aCallerThatIsNotAnAuthorizedDelegateIsRefusedSaying() throws Exception {
        Status end = subscribeSvids(spire.adminApiNotDelegated(), List.of(MUTUAL_AUTH), 0).awaitEnd(Duration.ofSeconds(10));
        assertStatus(end, Status.Code.PERMISSION_DENIED, "caller not configured as an authorized delegate");
    }

    private static void assertStatus(Status s, Status.Code code, String description) {
        assertThat(s.getCode()).as(s.toString()).isEqualTo(code);
        assertThat(s.getDescription()).isEqualTo(description);
    }

    // ---- Workload API ---------------------------------------------------------------------------------------

    @Test
    void javaSpiffeGetsTheAgentsX509SvidChainedToTheBundle() throws Exception {
        try (X509Source source = AgentIdentity.connect(spire.workloadApi(), Duration.ofSeconds(30))) {
            assertThat(source.getX509Svid().getSpiffeId()).isEqualTo(RealSpire.MESHAUTH_AGENT);
            X509Certificate root = source.getBundleForTrustDomain(RealSpire.TD).getX509Authorities().iterator().next();
            source.getX509Svid().getLeaf().verify(root.getPublicKey());
        }
    }

    @Test
    void jwtSvidsRoundTripAndAnotherAudienceIsRefused() throws Exception {
        try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions.builder()
                .spiffeSocketPath("unix:" + spire.workloadApi()).build())) {
            JwtSvid svid = client.fetchJwtSvid("meshauth-contract");
            assertThat(svid.getSpiffeId()).isEqualTo(RealSpire.MESHAUTH_AGENT);
            assertThat(client.validateJwtSvid(svid.getToken(), "meshauth-contract").getSpiffeId())
                    .isEqualTo(RealSpire.MESHAUTH_AGENT);
            assertThat(JwtSvid.parseAndValidate(svid.getToken(), client.fetchJwtBundles(), Set.of("meshauth-contract"))
                    .getSpiffeId()).isEqualTo(RealSpire.MESHAUTH_AGENT);
            assertThatThrownBy(() -> client.validateJwtSvid(svid.getToken(), "someone-else")).isNotNull();
        }
    }

    @Test
    void aRequestWithoutTheSecurityHeaderIsInvalidArgument() throws Exception {
        ManagedChannel raw = UnixSockets.channel(spire.workloadApi(), 4 << 20);
        try {
            assertThatThrownBy(() -> SpiffeWorkloadAPIGrpc.newBlockingStub(raw)
                    .fetchX509SVID(Workload.X509SVIDRequest.getDefaultInstance()).next())
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> assertStatus(e.getStatus(),
                            Status.Code.INVALID_ARGUMENT, "security header missing from request"));
        } finally {
            raw.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void spiresOwnClientFetchesTheSvidAndAnotherUserGetsNoIdentityIssued() throws Exception {
        Path cli = RealSpireCondition.binaries().agent();
        String mine = run(List.of(cli.toString(), "api", "fetch", "x509", "-socketPath", spire.workloadApi().toString()));
        assertThat(mine).contains("SPIFFE ID:").contains(RealSpire.MESHAUTH_AGENT.toString());
        // The unix attestor knows callers by their peer credentials: uid 65534 has no entry.
        String nobody = run(List.of("setpriv", "--reuid=65534", "--regid=65534", "--clear-groups", "--", cli.toString(),
                "api", "fetch", "x509", "-socketPath", spire.workloadApi().toString(), "-timeout", "3s"));
        assertThat(nobody).contains("PermissionDenied").contains("no identity issued");
    }

    private static String run(List<String> command) throws Exception {
        Process p = new ProcessBuilder(command).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("finished: " + command).isTrue();
        return out;
    }

    private static X509Certificate certificate(ByteString der) throws Exception {
        return (X509Certificate) CertificateFactory.getInstance("X.509").generateCertificate(
                new ByteArrayInputStream(der.toByteArray()));
    }

    private static List<X509Certificate> certificates(ByteString der) throws Exception {
        List<X509Certificate> out = new ArrayList<>();
        CertificateFactory.getInstance("X.509").generateCertificates(new ByteArrayInputStream(der.toByteArray()))
                .forEach(c -> out.add((X509Certificate) c));
        return out;
    }
}
