package dev.meshauth.spire.devserver;

import dev.meshauth.spire.WireIds;
import dev.meshauth.spire.agent.AgentIdentity;
import dev.meshauth.spire.grpc.UnixSockets;
import dev.meshauth.spire.testing.DevSpire;
import io.grpc.ManagedChannel;
import io.grpc.Status;
import io.grpc.StatusRuntimeException;
import io.spiffe.bundle.x509bundle.X509Bundle;
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
import spire.api.server.entry.v1.EntryOuterClass.BatchCreateEntryRequest;
import spire.api.server.entry.v1.EntryOuterClass.BatchDeleteEntryRequest;
import spire.api.server.entry.v1.EntryOuterClass.ListEntriesRequest;
import spire.api.types.EntryOuterClass.Entry;

import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * java-spiffe's own clients (which we did not write) against the dev server's Workload API over a real
 * Unix socket: the proof that SPIFFE workloads get identities from it as from a SPIRE agent.
 */
class WorkloadApiJavaSpiffeTest {
    private DevSpire devSpire;
    private static final SpiffeId AGENT = SpiffeId.parse("spiffe://spiffe.cilium/meshauth-agent");

    @BeforeEach
    void setUp() throws Exception {
        devSpire = DevSpire.start(InstantSource.system());
        // The dev server registered the agent's own entry (unix:uid of this process), as an operator would.
        assertThat(allEntries()).singleElement().satisfies(e -> {
            assertThat(WireIds.fromProto(e.getSpiffeId())).isEqualTo(AGENT);
            assertThat(e.getSelectorsList()).containsExactly(dev.meshauth.spire.UnixSelectors.uid(
                    dev.meshauth.spire.UnixSelectors.currentUid()));
        });
    }

    @AfterEach
    void tearDown() throws Exception {
        devSpire.close();
    }

    private Path socket() {
        return devSpire.config().workloadSocket();
    }

    @Test
    void defaultX509SourceGetsTheAgentSvidAndBundle() throws Exception {
        try (X509Source source = AgentIdentity.connect(socket(), Duration.ofSeconds(10))) {
            assertThat(source.getX509Svid().getSpiffeId()).isEqualTo(AGENT);
            X509Bundle bundle = source.getBundleForTrustDomain(DevSpire.TD);
            assertThat(bundle.getX509Authorities()).containsExactly(devSpire.server().ca().certificate());
            source.getX509Svid().getLeaf().verify(devSpire.server().ca().certificate().getPublicKey());
        }
    }

    @Test
    void jwtSvidRoundTripThroughJavaSpiffe() throws Exception {
        try (WorkloadApiClient client = DefaultWorkloadApiClient.newClient(DefaultWorkloadApiClient.ClientOptions.builder()
                .spiffeSocketPath("unix:" + socket()).build())) {
            JwtSvid svid = client.fetchJwtSvid("meshauth-test");
            assertThat(svid.getSpiffeId()).isEqualTo(AGENT);
            JwtSvid validated = client.validateJwtSvid(svid.getToken(), "meshauth-test");
            assertThat(validated.getSpiffeId()).isEqualTo(AGENT);
            assertThat(client.fetchJwtBundles().getBundleForTrustDomain(DevSpire.TD).getJwtAuthorities()).hasSize(1);
            // java-spiffe verifies the signature locally against the JWKS bundle, too.
            JwtSvid parsed = JwtSvid.parseAndValidate(svid.getToken(), client.fetchJwtBundles(), java.util.Set.of("meshauth-test"));
            assertThat(parsed.getSpiffeId()).isEqualTo(AGENT);
            assertThatThrownBy(() -> client.validateJwtSvid(svid.getToken(), "someone-else"))
                    .rootCause().hasMessageContaining("does not contain someone-else");
        }
    }

    @Test
    void requestWithoutTheSecurityHeaderIsInvalidArgument() throws Exception {
        ManagedChannel raw = UnixSockets.channel(socket(), 4 << 20);
        try {
            var stub = SpiffeWorkloadAPIGrpc.newBlockingStub(raw);
            assertThatThrownBy(() -> stub.fetchX509SVID(Workload.X509SVIDRequest.getDefaultInstance()).next())
                    .isInstanceOfSatisfying(StatusRuntimeException.class, e -> {
                        assertThat(e.getStatus().getCode()).isEqualTo(Status.Code.INVALID_ARGUMENT);
                        assertThat(e.getStatus().getDescription()).isEqualTo("security header missing from request");
                    });
        } finally {
            raw.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        }
    }

    @Test
    void callerWithoutAnEntryGetsPermissionDeniedAndABoundedWait() throws Exception {
        devSpire.entries().batchDeleteEntry(spire.api.server.entry.v1.EntryOuterClass.BatchDeleteEntryRequest.newBuilder()
                .addAllIds(devSpire.server() == null ? java.util.List.of() : allIds()).build());
        assertThatThrownBy(() -> AgentIdentity.connect(socket(), Duration.ofSeconds(1)))
                .hasMessageContaining("no identity was issued")
                .hasMessageContaining("is there a registration entry");
    }

    private java.util.List<String> allIds() {
        return allEntries().stream().map(Entry::getId).toList();
    }

    private java.util.List<Entry> allEntries() {
        return devSpire.entries().listEntries(spire.api.server.entry.v1.EntryOuterClass.ListEntriesRequest.getDefaultInstance())
                .getEntriesList();
    }
}
