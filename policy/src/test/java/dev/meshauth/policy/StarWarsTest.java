package dev.meshauth.policy;

import dev.meshauth.policy.endpoint.EndpointsFile;
import dev.meshauth.policy.endpoint.IdentityAllocator;
import dev.meshauth.policy.eval.AuthRequirement;
import dev.meshauth.policy.eval.PolicyEngine;
import dev.meshauth.policy.model.AuthType;
import dev.meshauth.policy.model.Direction;
import dev.meshauth.policy.yaml.PolicyParser;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** Cilium's Star Wars demo with mutual authentication evaluates as the guide says. */
class StarWarsTest {
    private EndpointsFile.Contents cast;
    private PolicyEngine engine;
    private long deathstar;
    private long tiefighter;
    private long xwing;

    static String resource(String name) throws IOException {
        try (var in = StarWarsTest.class.getResourceAsStream("/policies/" + name)) {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
    }

    @BeforeEach
    void setUp() throws Exception {
        cast = EndpointsFile.parse("endpoints.yaml", resource("endpoints.yaml"), new IdentityAllocator(Optional.empty()));
        var policies = PolicyParser.parse("sw.yaml", resource("sw_l3_l4_mutual_auth.yaml")).policies();
        engine = PolicyEngine.evaluate(policies, cast.endpoints());
        deathstar = cast.endpoint("deathstar").orElseThrow().identity();
        tiefighter = cast.endpoint("tiefighter").orElseThrow().identity();
        xwing = cast.endpoint("xwing").orElseThrow().identity();
    }

    @Test
    void identitiesAreAllocatedAbove255AndDistinct() {
        assertThat(Set.of(deathstar, tiefighter, xwing)).hasSize(3).allSatisfy(id -> assertThat(id).isGreaterThanOrEqualTo(256));
    }

    @Test
    void tiefighterMayLandOnPort80OnceAuthenticated() {
        var v = engine.lookup(deathstar, tiefighter, 80, 6, Direction.INGRESS).orElseThrow();
        assertThat(v.deny()).isFalse();
        assertThat(v.authType()).isEqualTo(AuthType.SPIRE);
        assertThat(v.reasons()).containsExactly("default/rule1 ingress[0]");
    }

    @Test
    void xwingIsDroppedByPolicy() {
        assertThat(engine.lookup(deathstar, xwing, 80, 6, Direction.INGRESS).orElseThrow().deny()).isTrue();
    }

    @Test
    void otherPortsAndUdpAreDropped() {
        assertThat(engine.lookup(deathstar, tiefighter, 443, 6, Direction.INGRESS).orElseThrow().deny()).isTrue();
        assertThat(engine.lookup(deathstar, tiefighter, 80, 17, Direction.INGRESS).orElseThrow().deny()).isTrue();
    }

    @Test
    void shipsThemselvesAreNotSelectedSoTrafficToThemIsAllowed() {
        assertThat(engine.lookup(tiefighter, deathstar, 80, 6, Direction.INGRESS)).isEmpty();
        assertThat(engine.lookup(deathstar, tiefighter, 80, 6, Direction.EGRESS)).as("no egress policy").isEmpty();
    }

    @Test
    void theDeathstarsNodeNeedsExactlyTheTiefighterPairAuthenticated() {
        assertThat(engine.requiredAuth(cast.endpoints(), cast.nodes())).containsExactly(
                new AuthRequirement("node-1", deathstar, tiefighter, 2, AuthType.SPIRE));
        assertThat(engine.authTypes(deathstar, tiefighter)).containsExactly(AuthType.SPIRE);
        assertThat(engine.authTypes(deathstar, xwing)).isEmpty();
    }
}
