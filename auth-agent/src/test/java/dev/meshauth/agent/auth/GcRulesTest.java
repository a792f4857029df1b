package dev.meshauth.agent.auth;

import dev.meshauth.agent.events.GcReason;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Instant;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/** Garbage collection's rules, one row per case (as Cilium's authmap_gc_test.go tests them). */
class GcRulesTest {
    private static final Instant NOW = Instant.parse("2026-12-01T12:00:00Z");
    private static final Instant LATER = NOW.plusSeconds(600);
    private static final AuthKey PAIR = new AuthKey(1000, 2000, 2, AuthType.SPIRE);
    private static final AuthKey LOCAL_PAIR = new AuthKey(1000, 2000, 0, AuthType.SPIRE);
    private static final Set<Long> IDS = Set.of(1000L, 2000L);
    private static final GcScope SYNCED = new GcScope(Set.of(2), Optional.of(IDS), Optional.of(Set.of(1000L)), true);
    private static final GcScope NOTHING_SYNCED = new GcScope(Set.of(), Optional.empty(), Optional.empty(), false);

    static Stream<Arguments> rows() {
        return Stream.of(
                // name, key, expiry, scope, required, reason (null: kept)
                Arguments.of("valid, required, everything known: kept", PAIR, LATER, SYNCED, Set.of(PAIR), null),
                Arguments.of("expires exactly now", PAIR, NOW, SYNCED, Set.of(PAIR), GcReason.EXPIRED),
                Arguments.of("expired, even with nothing synced", PAIR, NOW.minusSeconds(1), NOTHING_SYNCED, Set.of(),
                        GcReason.EXPIRED),
                Arguments.of("remote node gone", new AuthKey(1000, 2000, 7, AuthType.SPIRE), LATER, SYNCED, Set.of(PAIR),
                        GcReason.NODE_DELETED),
                Arguments.of("node 0 is this node: never deleted as a node", LOCAL_PAIR, LATER, SYNCED, Set.of(LOCAL_PAIR), null),
                Arguments.of("remote identity gone", new AuthKey(1000, 2999, 2, AuthType.SPIRE), LATER, SYNCED, Set.of(),
                        GcReason.IDENTITY_DELETED),
                Arguments.of("identities not synced: not judged", new AuthKey(1000, 2999, 2, AuthType.SPIRE), LATER,
                        new GcScope(Set.of(2), Optional.empty(), Optional.empty(), false), Set.of(), null),
                Arguments.of("local identity has no endpoint here", new AuthKey(2000, 1000, 2, AuthType.SPIRE), LATER, SYNCED,
                        Set.of(), GcReason.NO_LOCAL_ENDPOINT),
                Arguments.of("no policy requires it", PAIR, LATER, SYNCED, Set.of(), GcReason.NOT_REQUIRED),
                Arguments.of("policies not loaded: not judged", PAIR, LATER,
                        new GcScope(Set.of(2), Optional.of(IDS), Optional.of(Set.of(1000L)), false), Set.of(), null),
                Arguments.of("the first rule that matches names the reason", new AuthKey(1000, 2999, 7, AuthType.SPIRE),
                        NOW.minusSeconds(1), SYNCED, Set.of(), GcReason.EXPIRED));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("rows")
    void judges(String name, AuthKey key, Instant expiresAt, GcScope scope, Set<AuthKey> required, GcReason reason) {
        assertThat(GcRules.reason(key, expiresAt, scope, required, NOW)).isEqualTo(Optional.ofNullable(reason));
        assertThat(GcRules.judge(Map.of(key, expiresAt), scope, required, NOW))
                .isEqualTo(reason == null ? Map.of() : Map.of(key, reason));
    }

    @Test
    void aRootLeavingTheBundleDoomsExactlyTheEntriesAuthenticatedUnderItAndNotThoseOfUnknownRoots() {
        AuthKey a = new AuthKey(1000, 2000, 2, AuthType.SPIRE);
        AuthKey b = new AuthKey(1000, 2001, 2, AuthType.SPIRE);
        AuthKey unknown = new AuthKey(1000, 2002, 2, AuthType.SPIRE);
        assertThat(GcRules.rootLost(Map.of(a, Set.of("root-a"), b, Set.of("root-b"), unknown, Set.of()), Set.of("root-b")))
                .containsExactly(a);
    }
}
