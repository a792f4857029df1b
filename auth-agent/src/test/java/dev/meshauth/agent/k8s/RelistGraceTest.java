package dev.meshauth.agent.k8s;

import dev.meshauth.testing.FakeClock;
import io.fabric8.kubernetes.api.model.GenericKubernetesResource;
import io.fabric8.kubernetes.api.model.ObjectMetaBuilder;
import io.fabric8.kubernetes.client.informers.ResourceEventHandler;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

class RelistGraceTest {
    private final FakeClock clock = new FakeClock();
    private final List<String> seen = new ArrayList<>();
    private final ResourceEventHandler<GenericKubernetesResource> handler = new RelistGrace(Duration.ofMinutes(1), clock.scheduler())
            .guard(new ResourceEventHandler<>() {
                @Override
                public void onAdd(GenericKubernetesResource r) {
                    seen.add("add " + r.getMetadata().getName());
                }

                @Override
                public void onUpdate(GenericKubernetesResource old, GenericKubernetesResource r) {
                    seen.add("update " + r.getMetadata().getName());
                }

                @Override
                public void onDelete(GenericKubernetesResource r, boolean unknown) {
                    seen.add("delete " + r.getMetadata().getName() + (unknown ? " (relist)" : ""));
                }
            });

    private static GenericKubernetesResource endpoint(String name) {
        GenericKubernetesResource r = new GenericKubernetesResource();
        r.setKind("CiliumEndpoint");
        r.setMetadata(new ObjectMetaBuilder().withNamespace("default").withName(name).build());
        return r;
    }

    @Test
    void aDeleteTheApiServerSentPassesAtOnce() {
        handler.onDelete(endpoint("a"), false);
        assertThat(seen).containsExactly("delete a");
    }

    @Test
    void anObjectARelistMissedAndThatComesBackWasNeverDeleted() {
        handler.onDelete(endpoint("a"), true);
        clock.advance(Duration.ofSeconds(59));
        handler.onAdd(endpoint("a")); // the next relist lists it again
        clock.advance(Duration.ofMinutes(5));
        assertThat(seen).containsExactly("add a");
    }

    @Test
    void anObjectARelistMissedIsBelievedGoneAfterTheGraceOnce() {
        handler.onDelete(endpoint("a"), true);
        handler.onDelete(endpoint("a"), true); // a second relist that misses it too does not restart the grace
        clock.advance(Duration.ofSeconds(59));
        assertThat(seen).isEmpty();
        clock.advance(Duration.ofSeconds(1));
        assertThat(seen).containsExactly("delete a (relist)");
        clock.advance(Duration.ofMinutes(5));
        assertThat(seen).hasSize(1);
    }

    @Test
    void aWatchedDeleteDuringTheGraceEndsItAtOnce() {
        handler.onDelete(endpoint("a"), true);
        handler.onDelete(endpoint("a"), false);
        clock.advance(Duration.ofMinutes(2));
        assertThat(seen).containsExactly("delete a");
    }

    @Test
    void zeroGraceIsTheHandlerItselfAndANegativeOneIsRefused() {
        ResourceEventHandler<GenericKubernetesResource> inner = new ResourceEventHandler<>() {
            @Override
            public void onAdd(GenericKubernetesResource r) {
            }

            @Override
            public void onUpdate(GenericKubernetesResource o, GenericKubernetesResource r) {
            }

            @Override
            public void onDelete(GenericKubernetesResource r, boolean unknown) {
            }
        };
        assertThat(RelistGrace.none().guard(inner)).isSameAs(inner);
        assertThatThrownBy(() -> new RelistGrace(Duration.ofSeconds(-1), clock.scheduler()))
                .hasMessageContaining("must not be negative");
    }
}
