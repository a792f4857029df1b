package dev.meshauth.agent.operator;

import dev.meshauth.agent.k8s.CiliumResources;
import dev.meshauth.agent.k8s.IdentityWatch;
import dev.meshauth.agent.k8s.MockKubernetes;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import dev.meshauth.spire.entry.EntryRegistrar;
import dev.meshauth.spire.entry.RegistrationSpec;
import dev.meshauth.spire.grpc.UnixSockets;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import io.grpc.ManagedChannel;
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
class IdentityOperatorTest {
    @org.junit.jupiter.api.extension.RegisterExtension
    static final MockKubernetes api = new MockKubernetes();
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");

    private static void identity(String name) {
        api.client().genericKubernetesResources(CiliumResources.IDENTITY).resource(new GenericKubernetesResourceBuilder()
                .withApiVersion("cilium.io/v2").withKind("CiliumIdentity").withNewMetadata().withName(name).endMetadata()
                .addToAdditionalProperties("security-labels", Map.of("k8s:app", name)).build()).create();
    }


    @Test
    void entriesFollowIdentitiesAndStaleOnesGoAtStart(@TempDir Path dir) throws Exception {
        DevServerConfig config = DevServerConfig.under(dir, TD);
        try (DevServer spire = DevServer.start(config, InstantSource.system())) {
            ManagedChannel ch = UnixSockets.channel(config.serverSocket(), 32 << 20);
            EntryRegistrar registrar = new EntryRegistrar(EntryGrpc.newBlockingStub(ch), RegistrationSpec.ciliumDefaults(TD));
            registrar.reconcile(Set.of(9999L)); // left behind while the operator was down
            identity("1000");
            identity("2000");
            try (IdentityOperator op = IdentityOperator.start(l -> IdentityWatch.start(api.client(), Duration.ofMinutes(10), l),
                    registrar, Duration.ofMillis(500))) {
                eventually("registrar.owned().keySet().equals(Set.of(1000L, 2000L))", Duration.ofSeconds(10),
                        () -> registrar.owned().keySet().equals(Set.of(1000L, 2000L)));
                identity("3000");
                eventually("registrar.owned().keySet().equals(Set.of(1000L, 2000L, 3000L))", Duration.ofSeconds(10),
                        () -> registrar.owned().keySet().equals(Set.of(1000L, 2000L, 3000L)));
                api.client().genericKubernetesResources(CiliumResources.IDENTITY).withName("1000").delete();
                eventually("registrar.owned().keySet().equals(Set.of(2000L, 3000L))", Duration.ofSeconds(10),
                        () -> registrar.owned().keySet().equals(Set.of(2000L, 3000L)));
                assertThat(op.lastResult()).isNotNull();
            } finally {
                ch.shutdownNow();
            }
        }
    }
}
