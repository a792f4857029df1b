package dev.meshauth.agent.k8s;

import dev.meshauth.policy.model.Policy;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.GenericKubernetesResourceBuilder;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.atomic.AtomicReference;

import static dev.meshauth.testing.Eventually.eventually;
import static dev.meshauth.agent.k8s.CiliumObjects.identity;
import static org.assertj.core.api.Assertions.assertThat;

/** Informers against fabric8's mock API server in CRUD mode: real client code, a test API server. */
class KubernetesWatchTest {
    @org.junit.jupiter.api.extension.RegisterExtension
    static final MockKubernetes api = new MockKubernetes();

    private static GenericKubernetesResource cnp(String name, String mode) {
        return new GenericKubernetesResourceBuilder().withApiVersion("cilium.io/v2").withKind("CiliumNetworkPolicy")
                .withNewMetadata().withName(name).withNamespace("prod").endMetadata()
                .addToAdditionalProperties("spec", Map.of(
                        "endpointSelector", Map.of("matchLabels", Map.of("app", "db")),
                        "ingress", List.of(Map.of("authentication", Map.of("mode", mode)))))
                .build();
    }


    @Test
    void identitiesAreWatchedThroughCreateDeleteAndRestart() throws Exception {
        var ids = api.client().genericKubernetesResources(CiliumResources.IDENTITY);
        ids.resource(identity("1000")).create();
        AtomicReference<Set<Long>> seen = new AtomicReference<>(Set.of());
        try (IdentityWatch w = IdentityWatch.start(api.client(), Duration.ofMinutes(10), seen::set)) {
            eventually("w::synced", Duration.ofSeconds(10), w::synced);
            assertThat(w.identities()).containsExactly(1000L);
            ids.resource(identity("2000")).create();
            ids.resource(identity("not-a-number")).create(); // malformed: reported and skipped
            ids.resource(identity("7")).create();            // reserved: skipped
            eventually("seen.get().equals(Set.of(1000L, 2000L))", Duration.ofSeconds(10),
                    () -> seen.get().equals(Set.of(1000L, 2000L)));
            ids.withName("1000").delete();
            eventually("seen.get().equals(Set.of(2000L))", Duration.ofSeconds(10),
                    () -> seen.get().equals(Set.of(2000L)));
            ids.resource(identity("3000")).create();
            eventually("w.identities().equals(Set.of(2000L, 3000L))", Duration.ofSeconds(10),
                    () -> w.identities().equals(Set.of(2000L, 3000L)));
        }
        // A new informer (restart) lists what is there now.
        try (IdentityWatch again = IdentityWatch.start(api.client(), Duration.ofMinutes(10), s -> { })) {
            eventually("again::synced", Duration.ofSeconds(10), again::synced);
            assertThat(again.identities()).containsExactlyInAnyOrder(2000L, 3000L);
        }
    }

    @Test
    void policiesAreParsedAndABadUpdateKeepsTheLastGoodVersion() throws Exception {
        var cnps = api.client().genericKubernetesResources(CiliumResources.NETWORK_POLICY).inNamespace("prod");
        cnps.resource(cnp("db-auth", "required")).create();
        AtomicReference<List<Policy>> seen = new AtomicReference<>(List.of());
        try (PolicyWatch w = PolicyWatch.start(api.client(), Duration.ofMinutes(10), seen::set)) {
            eventually("w::synced", Duration.ofSeconds(10), w::synced);
            assertThat(w.policies()).singleElement().satisfies(p -> {
                assertThat(p.id()).isEqualTo("prod/db-auth");
                assertThat(p.rules().getFirst().auth()).hasValueSatisfying(m -> assertThat(m.yaml()).isEqualTo("required"));
            });
            cnps.resource(cnp("db-auth", "requird")).update();
            eventually("w.problems().containsKey(\"CiliumNetworkPolicy/prod/db-auth\")", Duration.ofSeconds(10),
                    () -> w.problems().containsKey("CiliumNetworkPolicy/prod/db-auth"));
            assertThat(w.problems().get("CiliumNetworkPolicy/prod/db-auth")).contains("did you mean 'required'?");
            assertThat(w.policies()).as("last good version still in force").singleElement()
                    .satisfies(p -> assertThat(p.rules().getFirst().auth()).isPresent());
            cnps.resource(cnp("db-open", "disabled")).create();
            eventually("seen.get().size() == 2", Duration.ofSeconds(10), () -> seen.get().size() == 2);
            cnps.withName("db-auth").delete();
            eventually("seen.get().size() == 1 && w.problems().isEmpty()", Duration.ofSeconds(10),
                    () -> seen.get().size() == 1 && w.problems().isEmpty());
        }
    }
}
