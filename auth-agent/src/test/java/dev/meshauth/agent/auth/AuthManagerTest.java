package dev.meshauth.agent.auth;

import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.auth.InMemoryAuthMap;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.function.Supplier;
import java.util.random.RandomGenerator;

import static org.assertj.core.api.Assertions.assertThat;

/** The auth manager's rules, over the in-memory auth map and a fake authenticator. */
class AuthManagerTest {
    private static final AuthKey TIE = new AuthKey(1000, 2000, 2, AuthType.SPIRE);
    private static final AuthKey TIE2 = new AuthKey(1000, 2001, 2, AuthType.SPIRE);
    private static final InetSocketAddress NODE2 = new InetSocketAddress("127.0.0.2", 4250);

    private final InMemoryAuthMap map = new InMemoryAuthMap(1024);
    private final FakeAuthenticator auth = new FakeAuthenticator();
    private final NodeDirectory nodes = id -> id == 2 ? Optional.of(NODE2) : Optional.empty();
    private final List<AuthEvent> events = new CopyOnWriteArrayList<>();
    private AuthManager manager;

    private AuthManager start(AuthManagerOptions o) throws Exception {
        return new AuthManager(map, auth, nodes, InstantSource.system(), o, RandomGenerator.of("L64X128MixRandom"), events::add);
    }

    @BeforeEach
    void setUp() throws Exception {
        manager = start(new AuthManagerOptions(1024, Duration.ofSeconds(30), 4, Duration.ofMillis(20), Duration.ofMillis(100),
                Duration.ofSeconds(5)));
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    private static void eventually(Supplier<Boolean> c) throws InterruptedException {
        long deadline = System.nanoTime() + Duration.ofSeconds(10).toNanos();
        while (System.nanoTime() < deadline && !c.get()) {
            Thread.sleep(10);
        }
        assertThat(c.get()).as("within 10 s").isTrue();
    }

    static java.util.stream.Stream<org.junit.jupiter.params.provider.Arguments> refreshRows() {
        Instant t0 = Instant.parse("2026-12-01T00:00:00Z");
        return java.util.stream.Stream.of(
                // name, lifetime, age now, refreshBefore, due
                org.junit.jupiter.params.provider.Arguments.of("1 h SVIDs, 10 min old: not yet", t0, Duration.ofHours(1),
                        Duration.ofMinutes(10), Duration.ofMinutes(1), false),
                org.junit.jupiter.params.provider.Arguments.of("1 h SVIDs, 59 min old: within refreshBefore", t0,
                        Duration.ofHours(1), Duration.ofMinutes(59), Duration.ofMinutes(1), true),
                org.junit.jupiter.params.provider.Arguments.of("30 s SVIDs, 2 s old: not every tick", t0, Duration.ofSeconds(30),
                        Duration.ofSeconds(2), Duration.ofMinutes(1), false),
                org.junit.jupiter.params.provider.Arguments.of("30 s SVIDs, 14 s old: before half-life", t0,
                        Duration.ofSeconds(30), Duration.ofSeconds(14), Duration.ofMinutes(1), false),
                org.junit.jupiter.params.provider.Arguments.of("30 s SVIDs, 15 s old: half-life", t0, Duration.ofSeconds(30),
                        Duration.ofSeconds(15), Duration.ofMinutes(1), true),
                org.junit.jupiter.params.provider.Arguments.of("already expired", t0, Duration.ofSeconds(30),
                        Duration.ofSeconds(31), Duration.ofSeconds(5), true));
    }

    @org.junit.jupiter.params.ParameterizedTest(name = "{0}")
    @org.junit.jupiter.params.provider.MethodSource("refreshRows")
    void refreshIsDueWithinRefreshBeforeButNotBeforeHalfTheLifetime(String name, Instant stored, Duration lifetime,
            Duration age, Duration refreshBefore, boolean due) {
        assertThat(AuthManager.refreshDue(stored, stored.plus(lifetime), stored.plus(age), refreshBefore)).isEqualTo(due);
    }

    @Test
    void aRemovalDuringTheStoreOfAHandshakeResultLeavesNoEntryOfTheRemovedSvid() throws Exception {
        manager.close();
        CountDownLatch storing = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        manager = new AuthManager(map, auth, nodes, InstantSource.system(), new AuthManagerOptions(1024,
                Duration.ofSeconds(30), 4, Duration.ofSeconds(60), Duration.ofSeconds(60), Duration.ofSeconds(5)),
                RandomGenerator.of("L64X128MixRandom"), events::add, () -> {
                    storing.countDown(); // the result passed its "not removed" check and is about to be written
                    try {
                        proceed.await();
                    } catch (InterruptedException e) {
                        Thread.currentThread().interrupt();
                    }
                });
        manager.request(TIE, AuthManager.Origin.SIGNAL);
        assertThat(storing.await(10, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        // SPIRE removes the remote SVID exactly now, between the check and the write.
        Thread removal = Thread.ofPlatform().start(() -> manager.svidRemoved(2000));
        while (removal.getState() != Thread.State.BLOCKED && removal.getState() != Thread.State.TERMINATED) {
            Thread.onSpinWait(); // until the removal either ran through or waits for the store
        }
        proceed.countDown();
        removal.join();
        assertThat(map.get(TIE)).as("no entry of a removed SVID, in either order").isEmpty();
        assertThat(events).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(AuthEvent.EntryDeleted.class,
                d -> assertThat(d.reason()).isEqualTo(GcReason.SVID_REMOVED)));
    }

    @Test
    void everyEventFollowsTheKernelWriteItReports() throws Exception {
        manager.close();
        List<String> seen = new CopyOnWriteArrayList<>();
        manager = new AuthManager(map, auth, nodes, InstantSource.system(), new AuthManagerOptions(1024,
                Duration.ofSeconds(30), 4, Duration.ofMillis(20), Duration.ofMillis(100), Duration.ofSeconds(5)),
                RandomGenerator.of("L64X128MixRandom"), e -> {
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
        eventually(() -> seen.contains("stored true"));
        manager.svidRemoved(2000);
        eventually(() -> seen.size() == 2);
        assertThat(seen).containsExactly("stored true", "deleted true");
    }

    @Test
    void requiredKeysAreAuthenticatedAheadOfTrafficWithTheHandshakeExpiry() throws Exception {
        manager.setRequired(Set.of(TIE));
        eventually(() -> map.get(TIE).isPresent());
        assertThat(map.get(TIE)).map(AuthInfo::expiresAt).contains(auth.expiresAt);
        assertThat(auth.calls).singleElement().isEqualTo(new FakeAuthenticator.Call(1000, 2000, NODE2));
    }

    @Test
    void onDemandLikeCiliumAuthenticatesOnlyOnASignal() throws Exception {
        manager.close();
        manager = start(AuthManagerOptions.DEFAULTS.withProactive(false));
        manager.setRequired(Set.of(TIE));
        Thread.sleep(200);
        assertThat(auth.calls).as("no handshake ahead of traffic").isEmpty();
        manager.request(TIE, AuthManager.Origin.SIGNAL);
        eventually(() -> map.get(TIE).isPresent());
        assertThat(auth.calls).hasSize(1);
    }

    @Test
    void reservedIdentitiesAreNeverAuthenticated() {
        assertThat(manager.request(new AuthKey(1, 2000, 2, AuthType.SPIRE), AuthManager.Origin.SIGNAL)).isFalse();
        assertThat(manager.request(new AuthKey(1000, 2, 2, AuthType.SPIRE), AuthManager.Origin.SIGNAL)).isFalse();
        assertThat(manager.stats().reservedSkipped()).isEqualTo(2);
        assertThat(auth.calls).isEmpty();
    }

    @Test
    void duplicateSignalsWhileOneIsInFlightAreCoalesced() throws Exception {
        auth.gate = new CountDownLatch(1);
        assertThat(manager.request(TIE, AuthManager.Origin.SIGNAL)).isTrue();
        assertThat(manager.request(TIE, AuthManager.Origin.SIGNAL)).isFalse();
        assertThat(manager.request(TIE, AuthManager.Origin.SIGNAL)).isFalse();
        auth.gate.countDown();
        eventually(() -> map.get(TIE).isPresent());
        assertThat(auth.callsFor(1000, 2000)).isEqualTo(1);
        assertThat(manager.stats().coalesced()).isEqualTo(2);
    }

    @Test
    void aSignalForARecentlyStoredKeyIsSkippedUnlessTheEntryVanished() throws Exception {
        manager.request(TIE, AuthManager.Origin.SIGNAL);
        eventually(() -> map.get(TIE).isPresent() && manager.stats().pending() == 0);
        manager.request(TIE, AuthManager.Origin.SIGNAL);
        eventually(() -> manager.stats().pending() == 0);
        assertThat(auth.callsFor(1000, 2000)).as("within the signal backoff").isEqualTo(1);

        map.delete(TIE); // someone else removed it from the kernel map
        manager.request(TIE, AuthManager.Origin.SIGNAL);
        eventually(() -> map.get(TIE).isPresent());
        assertThat(auth.callsFor(1000, 2000)).isEqualTo(2);
    }

    @Test
    void failuresAreRetriedWithBackoffUntilTheySucceed() throws Exception {
        auth.failNext.set(3);
        manager.request(TIE, AuthManager.Origin.SIGNAL);
        eventually(() -> map.get(TIE).isPresent());
        assertThat(auth.callsFor(1000, 2000)).isEqualTo(4);
        assertThat(manager.stats().failed()).isEqualTo(3);
    }

    @Test
    void testAlwaysFailAndUnknownNodesNeverWrite() throws Exception {
        manager.request(new AuthKey(1000, 2000, 2, AuthType.TEST_ALWAYS_FAIL), AuthManager.Origin.SIGNAL);
        manager.request(new AuthKey(1000, 2000, 9, AuthType.SPIRE), AuthManager.Origin.SIGNAL);
        eventually(() -> manager.stats().failed() >= 2);
        assertThat(map.entries()).isEmpty();
        assertThat(auth.calls).isEmpty();
    }

    @Test
    void rotationReauthenticatesExactlyTheEntriesInvolvingTheIdentity() throws Exception {
        AuthKey other = new AuthKey(3000, 4000, 2, AuthType.SPIRE);
        manager.setRequired(Set.of(TIE, TIE2, other));
        eventually(() -> map.entries().size() == 3);
        manager.svidRotated(2001);
        eventually(() -> auth.callsFor(1000, 2001) == 2);
        Thread.sleep(100);
        assertThat(auth.callsFor(1000, 2000)).isEqualTo(1);
        assertThat(auth.callsFor(3000, 4000)).isEqualTo(1);
    }

    @Test
    void aRotationDuringAHandshakeOfTheSameKeyRunsItOnceMoreAfterwards() throws Exception {
        manager.setRequired(Set.of(TIE));
        eventually(() -> map.get(TIE).isPresent() && manager.stats().pending() == 0);
        auth.gate = new CountDownLatch(1);
        manager.svidRotated(2000); // first rotation: a handshake starts and waits at the gate
        eventually(() -> auth.callsFor(1000, 2000) == 2);
        manager.svidRotated(2000); // second rotation while it is in flight
        auth.gate.countDown();
        eventually(() -> auth.callsFor(1000, 2000) == 3);
        eventually(() -> manager.stats().pending() == 0);
        Thread.sleep(50);
        assertThat(auth.callsFor(1000, 2000)).isEqualTo(3);
    }

    @Test
    void failuresDoNotMultiplyRetriesAndASuccessCancelsThePendingOne() throws Exception {
        manager.close();
        // Retries 2 s out, so the signal below surely comes first (a 20 ms retry could beat the test's poll).
        manager = start(new AuthManagerOptions(1024, Duration.ofSeconds(30), 4, Duration.ofSeconds(2), Duration.ofSeconds(2),
                Duration.ofSeconds(5)));
        auth.failNext.set(1);
        manager.request(TIE, AuthManager.Origin.POLICY); // fails: one retry scheduled in 2 s
        eventually(() -> auth.calls.size() == 1 && manager.stats().pending() == 0);
        manager.request(TIE, AuthManager.Origin.SIGNAL); // succeeds before the retry fires
        eventually(() -> map.get(TIE).isPresent());
        Thread.sleep(2_500); // past the moment the cancelled retry would have run
        assertThat(auth.callsFor(1000, 2000)).as("the stale retry was cancelled").isEqualTo(2);
    }

    @Test
    void aHandshakeInFlightWhenAnSvidIsRemovedWritesNothingUntilTheSvidIsBack() throws Exception {
        auth.gate = new CountDownLatch(1);
        manager.request(TIE, AuthManager.Origin.POLICY);
        eventually(() -> auth.calls.size() == 1);
        manager.svidRemoved(2000); // SPIRE revoked the remote identity while the handshake ran
        auth.gate.countDown();
        eventually(() -> manager.stats().pending() == 0);
        assertThat(map.get(TIE)).isEmpty();
        assertThat(events).anyMatch(e -> e instanceof AuthEvent.HandshakeFailed f && f.reason().equals("SVID_REMOVED"));
        auth.gate = null;
        manager.request(TIE, AuthManager.Origin.SIGNAL);
        eventually(() -> manager.stats().pending() == 0);
        assertThat(auth.callsFor(1000, 2000)).as("a removed identity is not even tried").isEqualTo(1);
        manager.svidAdded(2000);
        manager.setRequired(Set.of(TIE));
        eventually(() -> map.get(TIE).isPresent());
    }

    @Test
    void svidRemovalDeletesTheEntriesInvolvingIt() throws Exception {
        manager.setRequired(Set.of(TIE, TIE2));
        eventually(() -> map.entries().size() == 2);
        manager.svidRemoved(2000);
        assertThat(map.get(TIE)).isEmpty();
        assertThat(map.get(TIE2)).isPresent();
        assertThat(manager.stats().gcDeleted()).containsEntry(GcReason.SVID_REMOVED, 1L);
    }

    @Test
    void garbageCollectionCountsEachReason() throws Exception {
        map.put(new AuthKey(1000, 2000, 2, AuthType.SPIRE), AuthInfo.expiringAt(Instant.now().minusSeconds(1)));
        map.put(new AuthKey(1000, 2000, 7, AuthType.SPIRE), AuthInfo.expiringAt(Instant.now().plusSeconds(600)));
        map.put(new AuthKey(5000, 2000, 2, AuthType.SPIRE), AuthInfo.expiringAt(Instant.now().plusSeconds(600)));
        map.put(new AuthKey(1000, 2001, 2, AuthType.SPIRE), AuthInfo.expiringAt(Instant.now().plusSeconds(600)));
        map.put(new AuthKey(1000, 2002, 2, AuthType.SPIRE), AuthInfo.expiringAt(Instant.now().plusSeconds(600)));
        manager.setRequired(Set.of(new AuthKey(1000, 2002, 2, AuthType.SPIRE)));
        map.put(new AuthKey(1000, 2003, 2, AuthType.SPIRE), AuthInfo.expiringAt(Instant.now().plusSeconds(600)));
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
        map.put(unlisted, AuthInfo.expiringAt(Instant.now().plusSeconds(600)));
        Map<GcReason, Integer> r = manager.collectGarbage(new GcScope(Set.of(2), Optional.empty(), Optional.empty(), false));
        assertThat(r).isEmpty();
        assertThat(map.get(unlisted)).as("identities not synced: not judged deleted").isPresent();
    }

    @Test
    void aCaLeavingTheBundleDeletesExactlyTheEntriesAuthenticatedUnderIt() throws Exception {
        auth.anchors = Set.of("root-a");
        manager.setRequired(Set.of(TIE));
        eventually(() -> map.get(TIE).isPresent());
        auth.anchors = Set.of("root-b");
        manager.setRequired(Set.of(TIE, TIE2));
        eventually(() -> map.get(TIE2).isPresent());

        assertThat(manager.bundleChanged(Set.of("root-a", "root-b"))).as("both roots still there").isZero();
        assertThat(manager.bundleChanged(Set.of("root-b"))).isEqualTo(1);
        assertThat(map.get(TIE)).isEmpty();
        assertThat(map.get(TIE2)).isPresent();
        assertThat(manager.stats().gcDeleted()).containsEntry(GcReason.CA_REMOVED, 1L);
    }

    @Test
    void entriesOfUnknownRootsAreReauthenticatedOnABundleChange() throws Exception {
        map.put(TIE, AuthInfo.expiringAt(Instant.now().plusSeconds(600))); // as if restored after a restart
        manager.close();
        manager = start(AuthManagerOptions.DEFAULTS);
        auth.failNext.set(1_000);
        assertThat(manager.bundleChanged(Set.of("root-b"))).isZero();
        eventually(() -> auth.callsFor(1000, 2000) >= 1);
        assertThat(events).filteredOn(e -> e instanceof AuthEvent.HandshakeFailed f && f.origin() == AuthManager.Origin.ROTATION)
                .isNotEmpty();
    }

    @Test
    void everyOutcomeIsPublishedAsAnEvent() throws Exception {
        auth.failNext.set(1);
        manager.request(TIE, AuthManager.Origin.SIGNAL);
        eventually(() -> map.get(TIE).isPresent());
        assertThat(events).hasSize(2);
        assertThat(events.get(0)).isInstanceOfSatisfying(AuthEvent.HandshakeFailed.class, f -> {
            assertThat(f.key()).isEqualTo(TIE);
            assertThat(f.reason()).isEqualTo("PEER_REFUSED");
            assertThat(f.origin()).isEqualTo(AuthManager.Origin.SIGNAL);
        });
        assertThat(events.get(1)).isInstanceOfSatisfying(AuthEvent.HandshakeSucceeded.class, ok -> {
            assertThat(ok.origin()).isEqualTo(AuthManager.Origin.RETRY);
            assertThat(ok.expiresAt()).isEqualTo(auth.expiresAt);
            assertThat(ok.sinceRequest()).isGreaterThanOrEqualTo(ok.handshake());
        });
        assertThat(manager.held()).singleElement().satisfies(h -> {
            assertThat(h.origin()).isEqualTo(AuthManager.Origin.RETRY);
            assertThat(h.anchors()).containsExactly("root-a");
        });
    }

    @Test
    void aRestartedManagerRestoresItsCacheFromTheMap() throws Exception {
        manager.setRequired(Set.of(TIE));
        eventually(() -> map.get(TIE).isPresent());
        manager.close();
        manager = start(AuthManagerOptions.DEFAULTS);
        assertThat(manager.stats().cached()).isEqualTo(1);
        manager.request(TIE, AuthManager.Origin.SIGNAL);
        eventually(() -> manager.stats().pending() == 0);
        assertThat(auth.callsFor(1000, 2000)).as("neither lost nor redone").isEqualTo(1);
    }

    @Test
    void aFullQueueDropsAndCounts() throws Exception {
        manager.close();
        auth.gate = new CountDownLatch(1);
        manager = start(new AuthManagerOptions(1, Duration.ofSeconds(1), 1, Duration.ofMillis(20), Duration.ofMillis(100),
                Duration.ofSeconds(5)));
        manager.request(new AuthKey(1000, 3001, 2, AuthType.SPIRE), AuthManager.Origin.SIGNAL); // taken by the worker
        eventually(() -> auth.calls.size() == 1);
        manager.request(new AuthKey(1000, 3002, 2, AuthType.SPIRE), AuthManager.Origin.SIGNAL); // queued
        manager.request(new AuthKey(1000, 3003, 2, AuthType.SPIRE), AuthManager.Origin.SIGNAL); // dropped
        assertThat(manager.stats().dropped()).isEqualTo(1);
        auth.gate.countDown();
    }
}
