package dev.meshauth.agent.auth;

import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.events.FailureReason;
import dev.meshauth.agent.events.GcReason;
import dev.meshauth.agent.events.Origin;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.Set;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The auth manager on SPIRE's events: SVIDs removed (in every order against a handshake in flight),
 * rotated, held, and CAs leaving the bundle.
 */
class AuthManagerSvidTest extends AuthManagerFixture {
    @Test
    void aRemovalDuringTheStoreOfAHandshakeResultLeavesNoEntryOfTheRemovedSvid() throws Exception {
        manager.close();
        CountDownLatch storing = new CountDownLatch(1);
        CountDownLatch proceed = new CountDownLatch(1);
        manager = start(retriesAfter(Duration.ofSeconds(60)), () -> {
            storing.countDown(); // the result passed its "not removed" check and is about to be written
            try {
                proceed.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        });
        auth.hold = true;
        manager.request(TIE, Origin.SIGNAL);
        settle();
        Thread result = Thread.ofPlatform().start(auth::release); // the handshake's result arrives on its own thread
        assertThat(storing.await(10, TimeUnit.SECONDS)).isTrue();
        // SPIRE removes the remote SVID exactly now, between the check and the write.
        Thread removal = Thread.ofPlatform().start(() -> manager.svidRemoved(2000));
        while (removal.getState() != Thread.State.BLOCKED && removal.getState() != Thread.State.TERMINATED) {
            Thread.onSpinWait(); // until the removal either ran through or waits for the store
        }
        proceed.countDown();
        removal.join();
        result.join();
        assertThat(map.get(TIE)).as("no entry of a removed SVID, in either order").isEmpty();
        assertThat(events).anySatisfy(e -> assertThat(e).isInstanceOfSatisfying(AuthEvent.EntryDeleted.class,
                d -> assertThat(d.reason()).isEqualTo(GcReason.SVID_REMOVED)));
    }

    @Test
    void aRemovalBeforeTheResultArrivesLeavesNoEntryEither() throws Exception {
        auth.hold = true;
        manager.request(TIE, Origin.POLICY);
        settle();
        manager.svidRemoved(2000); // SPIRE revoked the remote identity while the handshake ran
        auth.release();
        settle();
        assertThat(map.get(TIE)).isEmpty();
        assertThat(events).anyMatch(e -> e instanceof AuthEvent.HandshakeFailed f && f.reason() == FailureReason.SVID_REMOVED);
        auth.hold = false;
        manager.request(TIE, Origin.SIGNAL);
        settle();
        assertThat(auth.callsFor(1000, 2000)).as("a removed identity is not even tried").isEqualTo(1);
        manager.svidAdded(2000);
        manager.setRequired(Set.of(TIE));
        settle();
        assertThat(map.get(TIE)).isPresent();
    }

    @Test
    void anSvidBackWhileAHandshakeOfItsRemovalIsInFlightIsAuthenticatedAfterIt() throws Exception {
        auth.hold = true;
        manager.setRequired(Set.of(TIE));
        settle(); // the handshake is in flight
        manager.svidRemoved(2000); // SPIRE drops the SVID (a CA revocation re-issues every SVID)...
        manager.svidAdded(2000); // ...and issues the new one before the handshake's result is back
        manager.setRequired(Set.of(TIE)); // coalesced: the key is in flight
        auth.hold = false;
        auth.release(); // the old handshake's result: written nothing (the SVID was removed since it began)
        settle();
        assertThat(map.get(TIE)).as("authenticated again under the new SVID, not left missing until the next GC")
                .isPresent();
        assertThat(auth.callsFor(1000, 2000)).as("the old handshake's result was discarded, a new one ran").isEqualTo(2);
        assertThat(events).anyMatch(e -> e instanceof AuthEvent.HandshakeFailed f && f.reason() == FailureReason.SVID_REMOVED);
    }

    @Test
    void rotationReauthenticatesExactlyTheEntriesInvolvingTheIdentity() throws Exception {
        AuthKey other = new AuthKey(3000, 4000, 2, AuthType.SPIRE);
        manager.setRequired(Set.of(TIE, TIE2, other));
        settle();
        manager.svidRotated(2001);
        settle();
        assertThat(auth.callsFor(1000, 2001)).isEqualTo(2);
        assertThat(auth.callsFor(1000, 2000)).isEqualTo(1);
        assertThat(auth.callsFor(3000, 4000)).isEqualTo(1);
    }

    @Test
    void aRotationDuringAHandshakeOfTheSameKeyRunsItOnceMoreAfterwards() throws Exception {
        manager.setRequired(Set.of(TIE));
        settle();
        auth.hold = true;
        manager.svidRotated(2000); // first rotation: a handshake starts and stays in flight
        settle();
        manager.svidRotated(2000); // second rotation while it is in flight
        auth.hold = false;
        auth.release();
        settle();
        assertThat(auth.callsFor(1000, 2000)).isEqualTo(3);
        clock.advance(Duration.ofSeconds(5));
        assertThat(auth.callsFor(1000, 2000)).as("once more, not more").isEqualTo(3);
    }

    /** An SVID arriving retries the missing required pairs it is in, now, and no other pair. */
    @Test
    void anSvidArrivingAuthenticatesTheMissingRequiredPairsItIsIn() throws Exception {
        AuthKey other = new AuthKey(3000, 4000, 2, AuthType.SPIRE);
        auth.failNext.set(3);
        manager.setRequired(Set.of(TIE, TIE2, other)); // all three fail: their retries wait (the clock stands)
        settle();
        assertThat(map.entries()).isEmpty();
        manager.identityReady(2001);
        settle();
        assertThat(map.get(TIE2)).isPresent();
        assertThat(map.get(TIE)).isEmpty();
        assertThat(map.get(other)).isEmpty();
        assertThat(auth.callsFor(1000, 2001)).isEqualTo(2);
        assertThat(auth.callsFor(1000, 2000)).isEqualTo(1);
        manager.identityReady(1000);
        settle();
        assertThat(map.get(TIE)).isPresent();
        assertThat(auth.callsFor(1000, 2001)).as("already held: not again").isEqualTo(2);
        assertThat(auth.callsFor(3000, 4000)).isEqualTo(1);
    }

    /** Both SVIDs of a pair rotate at once (SPIRE rotates in bulk) while its request waits: one handshake. */
    @Test
    void rotationsOfAQueuedKeyRunItOnceWithTheNewSvids() throws Exception {
        manager.close();
        manager = start(new AuthManagerOptions(16, Duration.ofSeconds(1), 1, Duration.ofMillis(20), Duration.ofMillis(100),
                Duration.ofSeconds(5)));
        AuthKey other = new AuthKey(3000, 4000, 2, AuthType.SPIRE);
        manager.setRequired(Set.of(TIE, other));
        settle();
        auth.hold = true;
        manager.svidRotated(3000); // takes the only worker and stays in flight
        settle();
        manager.svidRotated(1000); // TIE queued behind it
        manager.svidRotated(2000); // and rotated again while queued: not a second run
        auth.hold = false;
        auth.release();
        settle();
        assertThat(auth.callsFor(1000, 2000)).isEqualTo(2);
        clock.advance(Duration.ofSeconds(5));
        assertThat(auth.callsFor(1000, 2000)).as("not more").isEqualTo(2);
    }

    @Test
    void svidRemovalDeletesTheEntriesInvolvingIt() throws Exception {
        manager.setRequired(Set.of(TIE, TIE2));
        settle();
        manager.svidRemoved(2000);
        assertThat(map.get(TIE)).isEmpty();
        assertThat(map.get(TIE2)).isPresent();
        assertThat(manager.stats().gcDeleted()).containsEntry(GcReason.SVID_REMOVED, 1L);
    }

    @Test
    void aRemoteIdentitysCopyExpiredButStillListedLeavesItsEntriesToTheirOwnExpiry() throws Exception {
        // Found by SpireFaultsRealSpireTest: node-1's spire-agent, cut off from the server, served an expired
        // copy of node-2's SVID; the entry made with the certificate node-2 presented was deleted before it
        // expired.
        manager.setRequired(Set.of(TIE, TIE2));
        settle();
        manager.svidRemoved(2000, true);
        assertThat(map.get(TIE)).as("2000 is the remote identity here").isPresent();
        manager.svidRemoved(1000, true);
        assertThat(map.get(TIE)).as("1000 is the local one: this node cannot authenticate as it").isEmpty();
        assertThat(map.get(TIE2)).isEmpty();
    }

    @Test
    void entriesWhoseLocalIdentityHasNoSvidAnyMoreAreDeletedWhenTheHeldSetArrives() throws Exception {
        // Restored at start: SPIRE removed 5000's entry while this agent was down, so no removal event comes.
        Instant now = clock.instant();
        AuthKey orphan = new AuthKey(5000, 2000, 2, AuthType.SPIRE);
        map.put(orphan, AuthInfo.expiringAt(now.plusSeconds(600)));
        map.put(TIE, AuthInfo.expiringAt(now.plusSeconds(600)));
        manager.close();
        manager = start(AuthManagerOptions.DEFAULTS.withProactive(false));
        assertThat(manager.localSvidsMissing(Set.of(1000L, 2000L))).isEqualTo(1);
        assertThat(map.get(orphan)).isEmpty();
        assertThat(map.get(TIE)).isPresent();
        assertThat(manager.stats().gcDeleted()).containsEntry(GcReason.SVID_REMOVED, 1L);
        assertThat(manager.localSvidsMissing(Set.of(1000L))).as("a remote identity's SVID is not this node's to hold")
                .isZero();
    }

    @Test
    void aCaLeavingTheBundleDeletesExactlyTheEntriesAuthenticatedUnderIt() throws Exception {
        auth.anchors = Set.of("root-a");
        manager.setRequired(Set.of(TIE));
        settle();
        auth.anchors = Set.of("root-b");
        manager.setRequired(Set.of(TIE, TIE2));
        settle();

        assertThat(manager.bundleChanged(Set.of("root-a", "root-b"))).as("both roots still there").isZero();
        assertThat(manager.bundleChanged(Set.of("root-b"))).isEqualTo(1);
        assertThat(map.get(TIE)).isEmpty();
        assertThat(map.get(TIE2)).isPresent();
        assertThat(manager.stats().gcDeleted()).containsEntry(GcReason.CA_REMOVED, 1L);
    }

    @Test
    void entriesOfUnknownRootsAreReauthenticatedOnABundleChange() throws Exception {
        map.put(TIE, AuthInfo.expiringAt(clock.instant().plusSeconds(600))); // as if restored after a restart
        manager.close();
        manager = start(AuthManagerOptions.DEFAULTS);
        auth.failNext.set(1_000);
        assertThat(manager.bundleChanged(Set.of("root-b"))).isZero();
        settle();
        assertThat(events).filteredOn(e -> e instanceof AuthEvent.HandshakeFailed f && f.origin() == Origin.ROTATION)
                .hasSize(1);
    }
}
