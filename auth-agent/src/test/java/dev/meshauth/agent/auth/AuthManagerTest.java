package dev.meshauth.agent.auth;

import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.events.FailureReason;
import dev.meshauth.agent.events.GcReason;
import dev.meshauth.agent.events.Origin;
import dev.meshauth.agent.time.Clocks;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.random.RandomGenerator;

import static org.assertj.core.api.Assertions.assertThat;

/** The auth manager's rules for requests, retries, refresh, garbage collection and restore. */
class AuthManagerTest extends AuthManagerFixture {
    @Test
    void everyEventFollowsTheKernelWriteItReports() throws Exception {
        manager.close();
        List<String> seen = new CopyOnWriteArrayList<>();
        manager = new AuthManager(map, auth, nodes, new Clocks(clock, clock.ticker(), clock.scheduler()), clock.scheduler(),
                retriesAfter(Duration.ofMillis(20)), RandomGenerator.of("L64X128MixRandom"), e -> {
                    try { // what an observer sees when the event reaches it
                        if (e instanceof AuthEvent.HandshakeSucceeded ok) {
                            seen.add("stored " + map.get(ok.key()).isPresent());
                        } else if (e instanceof AuthEvent.EntryDeleted d) {
                            seen.add("deleted " + map.get(d.key()).isEmpty());
                        }
                    } catch (Exception x) {
                        seen.add("error " + x);
                    }
                });
        manager.setRequired(Set.of(TIE));
        settle();
        manager.svidRemoved(2000);
        assertThat(seen).containsExactly("stored true", "deleted true");
    }

    @Test
    void requiredKeysAreAuthenticatedAheadOfTrafficWithTheHandshakeExpiry() throws Exception {
        manager.setRequired(Set.of(TIE));
        assertThat(map.get(TIE)).as("nothing runs before the scheduler does").isEmpty();
        settle();
        assertThat(map.get(TIE)).map(AuthInfo::expiresAt).contains(auth.expiresAt);
        assertThat(auth.calls).singleElement().isEqualTo(new FakeAuthenticator.Call(1000, 2000, NODE2));
    }

    @Test
    void onDemandLikeCiliumAuthenticatesOnlyOnASignal() throws Exception {
        manager.close();
        manager = start(AuthManagerOptions.DEFAULTS.withProactive(false));
        manager.setRequired(Set.of(TIE));
        clock.advance(Duration.ofMinutes(10));
        assertThat(auth.calls).as("no handshake ahead of traffic").isEmpty();
        manager.request(TIE, Origin.SIGNAL);
        settle();
        assertThat(map.get(TIE)).isPresent();
        assertThat(auth.calls).hasSize(1);
    }

    @Test
    void reservedIdentitiesAreNeverAuthenticated() {
        assertThat(manager.request(new AuthKey(1, 2000, 2, AuthType.SPIRE), Origin.SIGNAL)).isFalse();
        assertThat(manager.request(new AuthKey(1000, 2, 2, AuthType.SPIRE), Origin.SIGNAL)).isFalse();
        settle();
        assertThat(manager.stats().reservedSkipped()).isEqualTo(2);
        assertThat(auth.calls).isEmpty();
    }

    @Test
    void duplicateSignalsWhileOneIsInFlightAreCoalesced() throws Exception {
        auth.hold = true;
        assertThat(manager.request(TIE, Origin.SIGNAL)).isTrue();
        settle();
        assertThat(manager.request(TIE, Origin.SIGNAL)).isFalse();
        assertThat(manager.request(TIE, Origin.SIGNAL)).isFalse();
        auth.release();
        settle();
        assertThat(map.get(TIE)).isPresent();
        assertThat(auth.callsFor(1000, 2000)).isEqualTo(1);
        assertThat(manager.stats().coalesced()).as("two offers, and the rerun they asked for found the entry fresh")
                .isEqualTo(3);
    }

    @Test
    void aSignalWhileTheHandshakeRunsIsNotLostIfTheEntryVanishesAfterItsWrite() throws Exception {
        auth.hold = true;
        manager.request(TIE, Origin.SIGNAL);
        settle();
        assertThat(manager.request(TIE, Origin.SIGNAL)).as("coalesced into the handshake in flight").isFalse();
        auth.release(); // the entry is written...
        map.delete(TIE); // ...and gone again before the second signal's turn: what that signal may have seen
        auth.hold = false;
        settle();
        assertThat(map.get(TIE)).as("the signal ran once more, as a signal").isPresent();
        assertThat(auth.callsFor(1000, 2000)).isEqualTo(2);
    }

    @Test
    void aSignalForARecentlyStoredKeyIsSkippedUnlessTheEntryVanished() throws Exception {
        manager.request(TIE, Origin.SIGNAL);
        settle();
        manager.request(TIE, Origin.SIGNAL);
        settle();
        assertThat(auth.callsFor(1000, 2000)).as("within the signal backoff").isEqualTo(1);

        map.delete(TIE); // someone else removed it from the kernel map
        manager.request(TIE, Origin.SIGNAL);
        settle();
        assertThat(map.get(TIE)).isPresent();
        assertThat(auth.callsFor(1000, 2000)).isEqualTo(2);
    }

    @Test
    void failuresAreRetriedWithBackoffUntilTheySucceed() throws Exception {
        auth.failNext.set(3);
        manager.request(TIE, Origin.SIGNAL);
        settle();
        assertThat(auth.callsFor(1000, 2000)).isEqualTo(1);
        clock.advance(Duration.ofMillis(19));
        assertThat(auth.callsFor(1000, 2000)).as("not before the backoff").isEqualTo(1);
        clock.advance(Duration.ofSeconds(1));
        assertThat(map.get(TIE)).isPresent();
        assertThat(auth.callsFor(1000, 2000)).isEqualTo(4);
        assertThat(manager.stats().failed()).isEqualTo(3);
    }

    @Test
    void aHandshakeWithNoResultFailsAtItsDeadlineAsATimeoutAndIsRetried() throws Exception {
        auth.hold = true;
        manager.request(TIE, Origin.POLICY);
        settle();
        clock.advance(Duration.ofSeconds(29));
        assertThat(events).isEmpty();
        clock.advance(Duration.ofSeconds(1));
        assertThat(events).singleElement().isInstanceOfSatisfying(AuthEvent.HandshakeFailed.class,
                f -> assertThat(f.reason()).isEqualTo(FailureReason.TIMEOUT));
        auth.hold = false;
        clock.advance(Duration.ofMillis(20));
        assertThat(map.get(TIE)).as("the retry").isPresent();
    }

    @Test
    void testAlwaysFailAndUnknownNodesNeverWrite() throws Exception {
        manager.request(new AuthKey(1000, 2000, 2, AuthType.TEST_ALWAYS_FAIL), Origin.SIGNAL);
        manager.request(new AuthKey(1000, 2000, 9, AuthType.SPIRE), Origin.SIGNAL);
        settle();
        assertThat(events).extracting(e -> ((AuthEvent.HandshakeFailed) e).reason())
                .containsExactlyInAnyOrder(FailureReason.TEST_ALWAYS_FAIL, FailureReason.UNKNOWN_NODE);
        assertThat(map.entries()).isEmpty();
        assertThat(auth.calls).isEmpty();
    }

    @Test
    void failuresDoNotMultiplyRetriesAndASuccessCancelsThePendingOne() throws Exception {
        manager.close();
        manager = start(retriesAfter(Duration.ofSeconds(2)));
        auth.failNext.set(1);
        manager.request(TIE, Origin.POLICY); // fails: one retry scheduled in 2 s
        settle();
        manager.request(TIE, Origin.SIGNAL); // succeeds before the retry fires
        settle();
        assertThat(map.get(TIE)).isPresent();
        clock.advance(Duration.ofSeconds(3)); // past the moment the cancelled retry would have run
        assertThat(auth.callsFor(1000, 2000)).as("the stale retry was cancelled").isEqualTo(2);
    }

    @Test
    void garbageCollectionDeletesWhatTheRulesJudgeAndCountsEachReason() throws Exception {
        Instant now = clock.instant();
        map.put(new AuthKey(1000, 2000, 2, AuthType.SPIRE), AuthInfo.expiringAt(now.minusSeconds(1)));
        map.put(new AuthKey(1000, 2000, 7, AuthType.SPIRE), AuthInfo.expiringAt(now.plusSeconds(600)));
        map.put(new AuthKey(5000, 2000, 2, AuthType.SPIRE), AuthInfo.expiringAt(now.plusSeconds(600)));
        map.put(new AuthKey(1000, 2001, 2, AuthType.SPIRE), AuthInfo.expiringAt(now.plusSeconds(600)));
        map.put(new AuthKey(1000, 2002, 2, AuthType.SPIRE), AuthInfo.expiringAt(now.plusSeconds(600)));
        manager.close();
        manager = start(AuthManagerOptions.DEFAULTS.withProactive(false));
        manager.setRequired(Set.of(new AuthKey(1000, 2002, 2, AuthType.SPIRE)));
        map.put(new AuthKey(1000, 2003, 2, AuthType.SPIRE), AuthInfo.expiringAt(now.plusSeconds(600))); // written by others
        Map<GcReason, Integer> r = manager.collectGarbage(new GcScope(Set.of(2), Optional.of(Set.of(1000L, 2000L, 2001L, 2002L,
                5000L)), Optional.of(Set.of(1000L)), true));
        assertThat(r).containsExactlyInAnyOrderEntriesOf(Map.of(GcReason.EXPIRED, 1, GcReason.NODE_DELETED, 1,
                GcReason.IDENTITY_DELETED, 1, GcReason.NO_LOCAL_ENDPOINT, 1, GcReason.NOT_REQUIRED, 1));
        assertThat(map.entries()).singleElement().satisfies(e -> assertThat(e.key().remoteIdentity()).isEqualTo(2002));
        assertThat(events).filteredOn(e -> e instanceof AuthEvent.EntryDeleted).hasSize(5);
    }

    @Test
    void rulesWhoseInputsAreNotSyncedDeleteNothing() throws Exception {
        AuthKey unlisted = new AuthKey(1000, 2999, 2, AuthType.SPIRE);
        map.put(unlisted, AuthInfo.expiringAt(clock.instant().plusSeconds(600)));
        Map<GcReason, Integer> r = manager.collectGarbage(new GcScope(Set.of(2), Optional.empty(), Optional.empty(), false));
        assertThat(r).isEmpty();
        assertThat(map.get(unlisted)).as("identities not synced: not judged deleted").isPresent();
    }

    @Test
    void anEntryDeletedBehindTheAgentsBackIsRepairedAtTheNextGc() throws Exception {
        manager.setRequired(Set.of(TIE, TIE2));
        settle();
        map.delete(TIE); // `meshauth bpf auth flush`, bpftool, or another GC
        assertThat(manager.missing()).as("status reads the kernel, not the cache").containsExactly(TIE);
        manager.collectGarbage(ALL_KNOWN);
        settle();
        assertThat(map.get(TIE)).isPresent();
        assertThat(auth.callsFor(1000, 2000)).isEqualTo(2);
        assertThat(auth.callsFor(1000, 2001)).as("the intact entry is left alone").isEqualTo(1);
        assertThat(manager.stats().repaired()).isEqualTo(1);
        assertThat(events).anyMatch(e -> e instanceof AuthEvent.HandshakeSucceeded ok && ok.origin() == Origin.REPAIR);
        assertThat(manager.missing()).isEmpty();
    }

    @Test
    void aFlushedMapIsRefilledAtTheNextGcEvenWhenOnlySignalsWouldAuthenticate() throws Exception {
        manager.close();
        manager = start(AuthManagerOptions.DEFAULTS.withProactive(false));
        manager.request(TIE, Origin.SIGNAL);
        manager.request(TIE2, Origin.SIGNAL);
        settle();
        manager.setRequired(Set.of(TIE, TIE2));
        assertThat(map.flush()).isEqualTo(2);
        manager.collectGarbage(ALL_KNOWN);
        settle();
        assertThat(map.entries()).hasSize(2);
    }

    @Test
    void anEntryOverwrittenWithAPastExpiryIsDeletedAndRepaired() throws Exception {
        manager.setRequired(Set.of(TIE));
        settle();
        map.put(TIE, AuthInfo.expiringAt(clock.instant().minusSeconds(5))); // an expired entry, written by someone else
        assertThat(manager.missing()).containsExactly(TIE);
        Map<GcReason, Integer> r = manager.collectGarbage(ALL_KNOWN);
        assertThat(r).containsEntry(GcReason.EXPIRED, 1);
        settle();
        assertThat(map.get(TIE)).map(AuthInfo::expiresAt).contains(auth.expiresAt);
    }

    @Test
    void heldEntriesAreReadFromTheKernelAndNameWhatTheAgentDidNotWrite() throws Exception {
        manager.setRequired(Set.of(TIE));
        settle();
        AuthKey foreign = new AuthKey(1000, 2050, 2, AuthType.SPIRE);
        map.put(foreign, AuthInfo.expiringAt(clock.instant().plusSeconds(60)));
        assertThat(manager.held()).extracting(AuthManager.Held::key, AuthManager.Held::origin)
                .containsExactlyInAnyOrder(org.assertj.core.groups.Tuple.tuple(TIE, Optional.of(Origin.POLICY)),
                        org.assertj.core.groups.Tuple.tuple(foreign, Optional.empty()));
    }

    @Test
    void everyOutcomeIsPublishedAsAnEvent() throws Exception {
        auth.failNext.set(1);
        manager.request(TIE, Origin.SIGNAL);
        clock.advance(Duration.ofSeconds(1));
        assertThat(events).hasSize(2);
        assertThat(events.get(0)).isInstanceOfSatisfying(AuthEvent.HandshakeFailed.class, f -> {
            assertThat(f.key()).isEqualTo(TIE);
            assertThat(f.reason()).isEqualTo(FailureReason.PEER_REFUSED);
            assertThat(f.origin()).isEqualTo(Origin.SIGNAL);
        });
        assertThat(events.get(1)).isInstanceOfSatisfying(AuthEvent.HandshakeSucceeded.class, ok -> {
            assertThat(ok.origin()).isEqualTo(Origin.RETRY);
            assertThat(ok.expiresAt()).isEqualTo(auth.expiresAt);
            assertThat(ok.sinceRequest()).as("a retry is queued when its backoff ends and runs at once").isZero();
        });
        assertThat(manager.held()).singleElement().satisfies(h -> {
            assertThat(h.origin()).contains(Origin.RETRY);
            assertThat(h.anchors()).containsExactly("root-a");
        });
    }

    @Test
    void aRestartedManagerRestoresItsCacheFromTheMap() throws Exception {
        manager.setRequired(Set.of(TIE));
        settle();
        manager.close();
        manager = start(AuthManagerOptions.DEFAULTS);
        assertThat(manager.stats().cached()).isEqualTo(1);
        manager.request(TIE, Origin.SIGNAL);
        settle();
        assertThat(auth.callsFor(1000, 2000)).as("neither lost nor redone").isEqualTo(1);
    }

    @Test
    void requiredEntriesAreRefreshedBeforeTheyExpire() throws Exception {
        auth.expiresAt = clock.instant().plus(Duration.ofMinutes(10));
        manager.setRequired(Set.of(TIE));
        settle();
        clock.advance(Duration.ofMinutes(10).minusSeconds(6)); // refreshBefore is 5 s
        assertThat(auth.callsFor(1000, 2000)).isEqualTo(1);
        auth.expiresAt = clock.instant().plus(Duration.ofMinutes(10));
        clock.advance(Duration.ofSeconds(2));
        assertThat(auth.callsFor(1000, 2000)).isEqualTo(2);
        assertThat(map.get(TIE)).map(AuthInfo::expiresAt).contains(auth.expiresAt);
    }

    /**
     * The agent's own work is never dropped, however small the signal queue: 300 required pairs (a policy
     * landing) and then a rotation of the identity in all of them, through a queue of one with one worker.
     */
    @Test
    void policyAndRotationWorkIsNeverDroppedByAFullQueue() throws Exception {
        manager.close();
        manager = start(new AuthManagerOptions(1, Duration.ofSeconds(1), 1, Duration.ofMillis(20), Duration.ofMillis(100),
                Duration.ofSeconds(5)));
        Set<AuthKey> pairs = new java.util.HashSet<>();
        for (int i = 0; i < 300; i++) {
            pairs.add(new AuthKey(1000, 3000 + i, 2, AuthType.SPIRE));
        }
        manager.setRequired(pairs);
        settle();
        assertThat(map.entries()).hasSize(300);
        auth.expiresAt = clock.instant().plus(Duration.ofMinutes(30));
        manager.svidRotated(1000);
        settle();
        assertThat(map.entries()).hasSize(300).allSatisfy(e -> assertThat(e.info().expiresAt()).isEqualTo(auth.expiresAt));
        assertThat(auth.callsFor(1000, 3299)).isEqualTo(2);
        assertThat(manager.stats().dropped()).isZero();
        // Signals still meet the bounded queue: one in flight, one queued, the third dropped.
        auth.hold = true;
        manager.request(new AuthKey(1000, 4001, 2, AuthType.SPIRE), Origin.SIGNAL);
        settle();
        manager.request(new AuthKey(1000, 4002, 2, AuthType.SPIRE), Origin.SIGNAL);
        manager.request(new AuthKey(1000, 4003, 2, AuthType.SPIRE), Origin.SIGNAL);
        assertThat(manager.stats().dropped()).isEqualTo(1);
        auth.hold = false;
        auth.release();
        settle();
    }

    @Test
    void aFullQueueDropsAndCounts() throws Exception {
        manager.close();
        auth.hold = true;
        manager = start(new AuthManagerOptions(1, Duration.ofSeconds(1), 1, Duration.ofMillis(20), Duration.ofMillis(100),
                Duration.ofSeconds(5)));
        manager.request(new AuthKey(1000, 3001, 2, AuthType.SPIRE), Origin.SIGNAL); // taken by the worker
        settle();
        assertThat(auth.inFlight()).isEqualTo(1);
        manager.request(new AuthKey(1000, 3002, 2, AuthType.SPIRE), Origin.SIGNAL); // queued
        manager.request(new AuthKey(1000, 3003, 2, AuthType.SPIRE), Origin.SIGNAL); // dropped
        assertThat(manager.stats().dropped()).isEqualTo(1);
        auth.hold = false;
        auth.release();
        settle();
        assertThat(map.entries()).hasSize(2);
    }
}
