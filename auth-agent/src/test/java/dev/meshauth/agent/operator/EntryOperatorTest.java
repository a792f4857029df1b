package dev.meshauth.agent.operator;

import dev.meshauth.agent.k8s.CiliumObjects;
import dev.meshauth.agent.k8s.CiliumResources;
import dev.meshauth.agent.k8s.RelistGrace;
import dev.meshauth.agent.k8s.MockKubernetes;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import dev.meshauth.spire.entry.EntryLayout;
import dev.meshauth.spire.entry.EntryRegistrar;
import dev.meshauth.spire.entry.ParentTemplate;
import dev.meshauth.spire.entry.Registration;
import dev.meshauth.spire.entry.RegistrationSpec;
import dev.meshauth.spire.grpc.UnixSockets;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.grpc.ManagedChannel;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import spire.api.server.entry.v1.EntryGrpc;

import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Map;
import java.util.Set;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The operator glue end to end: CiliumIdentity objects in a (mock, CRUD) API server become SPIRE entries
 * in the dev server, through the real Entry API client.
 */
class EntryOperatorTest {
    @org.junit.jupiter.api.extension.RegisterExtension
    static final MockKubernetes api = new MockKubernetes();
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");

    private static void identity(String name) {
        api.client().genericKubernetesResources(CiliumResources.IDENTITY).resource(new GenericKubernetesResourceBuilder()
                .withApiVersion("cilium.io/v2").withKind("CiliumIdentity").withNewMetadata().withName(name).endMetadata()
                .addToAdditionalProperties("security-labels", Map.of("k8s:app", name)).build()).create();
    }


    private static Set<Long> identities(EntryRegistrar r) {
        return r.owned().keySet().stream().map(Registration::identity).collect(java.util.stream.Collectors.toSet());
    }

    @Test
    void entriesFollowIdentitiesAndStaleOnesGoAtStart(@TempDir Path dir) throws Exception {
        DevServerConfig config = DevServerConfig.under(dir, TD);
        try (DevServer spire = DevServer.start(config, InstantSource.system())) {
            ManagedChannel ch = UnixSockets.channel(config.serverSocket(), 32 << 20);
            EntryRegistrar registrar = new EntryRegistrar(EntryGrpc.newBlockingStub(ch), RegistrationSpec.ciliumDefaults(TD),
                    new EntryLayout.ClusterWide(RegistrationSpec.ciliumOperator(TD)));
            registrar.reconcileIdentities(Set.of(9999L)); // left behind while the operator was down
            identity("1000");
            identity("2000");
            try (EntryOperator op = EntryOperator.start(changed -> PlacementSources.ciliumIdentities(api.client(),
                    Duration.ofMinutes(10), RelistGrace.none(), changed), registrar, Duration.ZERO, InstantSource.system(),
                    Duration.ofMillis(500))) {
                eventually("identities(registrar).equals(Set.of(1000L, 2000L))", Duration.ofSeconds(10),
                        () -> identities(registrar).equals(Set.of(1000L, 2000L)));
                identity("3000");
                eventually("identities(registrar).equals(Set.of(1000L, 2000L, 3000L))", Duration.ofSeconds(10),
                        () -> identities(registrar).equals(Set.of(1000L, 2000L, 3000L)));
                api.client().genericKubernetesResources(CiliumResources.IDENTITY).withName("1000").delete();
                eventually("identities(registrar).equals(Set.of(2000L, 3000L))", Duration.ofSeconds(10),
                        () -> identities(registrar).equals(Set.of(2000L, 3000L)));
                assertThat(op.lastResult()).isNotNull();
            } finally {
                ch.shutdownNow();
            }
        }
    }

    @Test
    void nodeScopedEntriesFollowCiliumEndpointsUnderEachNodesK8sPsatAgentId(@TempDir Path dir) throws Exception {
        var ns = api.client().genericKubernetesResources(CiliumResources.NODE);
        var eps = api.client().genericKubernetesResources(CiliumResources.ENDPOINT).inNamespace("default");
        ns.resource(CiliumObjects.ownedNode("worker-1", "10.0.0.1", "uid-1")).create();
        ns.resource(CiliumObjects.ownedNode("worker-2", "10.0.0.2", "uid-2")).create();
        eps.resource(CiliumObjects.endpoint("deathstar", 1001, "10.1.1.10", "10.0.0.1", "k8s:class=deathstar")).create();
        eps.resource(CiliumObjects.endpoint("tiefighter", 1002, "10.1.2.20", "10.0.0.2", "k8s:class=tiefighter")).create();
        eps.resource(CiliumObjects.endpoint("tiefighter-b", 1002, "10.1.1.21", "10.0.0.1", "k8s:class=tiefighter")).create();
        DevServerConfig config = DevServerConfig.under(dir, TD);
        try (DevServer spire = DevServer.start(config, InstantSource.system())) {
            ManagedChannel ch = UnixSockets.channel(config.serverSocket(), 32 << 20);
            EntryLayout layout = new EntryLayout.NodeScoped(new ParentTemplate(ParentTemplate.K8S_PSAT, TD, "prod"),
                    RegistrationSpec.ciliumOperator(TD));
            EntryRegistrar registrar = new EntryRegistrar(EntryGrpc.newBlockingStub(ch), RegistrationSpec.ciliumDefaults(TD), layout);
            String agent = "spiffe://spiffe.cilium/spire/agent/k8s_psat/prod/";
            try (EntryOperator op = EntryOperator.start(changed -> PlacementSources.ciliumEndpoints(api.client(),
                    Duration.ofMinutes(10), RelistGrace.none(), changed), registrar, Duration.ZERO, InstantSource.system(),
                    Duration.ofMillis(300))) {
                eventually("one entry per identity per node", Duration.ofSeconds(10), () -> registrar.owned().keySet().equals(Set.of(
                        new Registration(1001, SpiffeId.parse(agent + "uid-1")), new Registration(1002, SpiffeId.parse(agent + "uid-1")),
                        new Registration(1002, SpiffeId.parse(agent + "uid-2")))));
                eps.withName("tiefighter-b").delete();
                eventually("the tiefighter's entry on worker-1 goes with its last endpoint there", Duration.ofSeconds(10),
                        () -> registrar.owned().keySet().equals(Set.of(new Registration(1001, SpiffeId.parse(agent + "uid-1")),
                                new Registration(1002, SpiffeId.parse(agent + "uid-2")))));
                assertThat(op.lastResult().failures()).isEmpty();
            } finally {
                ch.shutdownNow();
            }
        }
    }
}
