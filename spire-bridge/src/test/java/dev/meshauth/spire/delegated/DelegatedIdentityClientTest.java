package dev.meshauth.spire.delegated;

import dev.meshauth.spire.entry.EntryLayout;
import dev.meshauth.spire.entry.EntryRegistrar;
import dev.meshauth.spire.entry.RegistrationSpec;
import dev.meshauth.spire.retry.Backoff;
import dev.meshauth.spire.testing.DevSpire;
import dev.meshauth.spire.testing.MutableClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;
import java.util.random.RandomGenerator;
import java.util.stream.Collectors;
import java.util.stream.LongStream;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/** The node agent's Delegated Identity subscription against the dev server, over the admin socket. */
class DelegatedIdentityClientTest {
    private static final Duration WAIT = Duration.ofSeconds(10);
    private final MutableClock clock = new MutableClock(Instant.parse("2026-11-26T12:00:00Z"));
    private final LinkedBlockingQueue<IdentityEvent> events = new LinkedBlockingQueue<>();
    private DevSpire devSpire;
    private DelegatedIdentityClient client;

    private void start() throws Exception {
        devSpire = DevSpire.start(clock);
        client = DelegatedIdentityClient.start(DelegatedIdentityOptions.defaults(devSpire.config().adminSocket(), DevSpire.TD),
                clock, fastBackoff(), fastBackoff(), events::add);
    }

    private static Backoff fastBackoff() {
        return new Backoff(Duration.ofMillis(20), Duration.ofMillis(200), RandomGenerator.of("L64X128MixRandom"));
    }

    @AfterEach
    void tearDown() throws Exception {
        if (client != null) {
            client.close();
        }
        if (devSpire != null) {
            devSpire.close();
        }
    }

    private EntryRegistrar registrar() {
        return new EntryRegistrar(devSpire.entries(), RegistrationSpec.ciliumDefaults(DevSpire.TD),
                new EntryLayout.ClusterWide(RegistrationSpec.ciliumOperator(DevSpire.TD)));
    }

    @SuppressWarnings("unchecked")
    private <T extends IdentityEvent> T await(Class<T> type, Predicate<T> match) throws InterruptedException {
        long deadline = System.nanoTime() + WAIT.toNanos();
        while (System.nanoTime() < deadline) {
            IdentityEvent e = events.poll(100, TimeUnit.MILLISECONDS);
            if (type.isInstance(e) && match.test((T) e)) {
                return (T) e;
            }
        }
        throw new AssertionError("no " + type.getSimpleName() + " within " + WAIT);
    }

    private void awaitIdentities(Set<Long> expected) {
        eventually("SVIDs held for " + expected, WAIT, () -> client.svids().keySet().equals(expected));
    }

    @Test
    void entriesCreatedThroughTheEntryApiArriveAsValidatedSvids() throws Exception {
        start();
        await(IdentityEvent.BundleChanged.class, b -> true);
        long t0 = System.nanoTime();
        registrar().reconcileIdentities(Set.of(1000L, 2000L));
        awaitIdentities(Set.of(1000L, 2000L));
        assertThat(Duration.ofNanos(System.nanoTime() - t0)).isLessThan(Duration.ofSeconds(1));
        assertThat(client.svid(1000)).hasValueSatisfying(s ->
                assertThat(s.spiffeId()).hasToString("spiffe://spiffe.cilium/identity/1000"));
        assertThat(client.roots()).containsExactly(devSpire.server().ca().certificate());
    }

    @Test
    void rotationAtHalfLifeIsARotatedEvent() throws Exception {
        start();
        registrar().reconcileIdentities(Set.of(1000L));
        IdentityEvent.SvidAdded added = await(IdentityEvent.SvidAdded.class, a -> a.identity() == 1000);
        clock.advance(Duration.ofMinutes(29)); // TTL 1h: not yet half
        devSpire.server().tick();
        clock.advance(Duration.ofMinutes(2)); // past half-life
        devSpire.server().tick();
        IdentityEvent.SvidRotated rotated = await(IdentityEvent.SvidRotated.class, r -> r.identity() == 1000);
        assertThat(rotated.previous().serial()).isEqualTo(added.svid().serial());
        assertThat(rotated.svid().notAfter()).isAfter(added.svid().notAfter());
        assertThat(client.svid(1000)).hasValueSatisfying(s -> assertThat(s.serial()).isEqualTo(rotated.svid().serial()));
    }

    @Test
    void aRevokedCaLeavesNoSvidItSignedAndTheNewSvidsAreTakenWhicheverStreamArrivesFirst() throws Exception {
        start();
        registrar().reconcileIdentities(Set.of(1000L, 2000L));
        awaitIdentities(Set.of(1000L, 2000L));
        java.security.cert.X509Certificate oldRoot = devSpire.server().ca().certificate();
        var next = devSpire.server().revokeCa();
        eventually("the new root and two SVIDs signed by it", WAIT, () -> client.roots().equals(List.of(next.certificate()))
                && client.svids().size() == 2 && client.svids().values().stream().allMatch(s -> signedBy(s, next.certificate())));
        assertThat(client.roots()).containsExactly(next.certificate()).doesNotContain(oldRoot);
        assertThat(client.svids().keySet()).containsExactlyInAnyOrder(1000L, 2000L);
        assertThat(client.svids().values()).allSatisfy(s -> assertThat(signedBy(s, next.certificate()))
                .as("every SVID held chains to the new root").isTrue());
    }

    private static boolean signedBy(dev.meshauth.spire.svid.WorkloadSvid svid, java.security.cert.X509Certificate root) {
        try {
            svid.leaf().verify(root.getPublicKey());
            return true;
        } catch (java.security.GeneralSecurityException e) {
            return false;
        }
    }

    @Test
    void deletedEntriesAreRemovedEvents() throws Exception {
        start();
        registrar().reconcileIdentities(Set.of(1000L, 2000L));
        awaitIdentities(Set.of(1000L, 2000L));
        registrar().reconcileIdentities(Set.of(2000L));
        await(IdentityEvent.SvidRemoved.class, r -> r.identity() == 1000);
        awaitIdentities(Set.of(2000L));
    }

    @Test
    void serverRestartMidStreamConvergesWithNoLostOrPhantomIdentities() throws Exception {
        start();
        registrar().reconcileIdentities(Set.of(1L, 2L, 3L));
        awaitIdentities(Set.of(1L, 2L, 3L));
        devSpire.stop();
        await(IdentityEvent.StreamDown.class, d -> d.stream().equals("x509-svids"));
        assertThat(client.svid(1)).as("served while the stream is down").isPresent();
        devSpire.startAgain(); // same data dir: same CA, same entries
        registrar().reconcileIdentities(Set.of(2L, 3L, 4L));
        awaitIdentities(Set.of(2L, 3L, 4L));
        assertThat(client.reconnects()).isPositive();
    }

    @Test
    void heldSvidsExpireWhileTheStreamIsDown() throws Exception {
        start();
        registrar().reconcileIdentities(Set.of(7L));
        awaitIdentities(Set.of(7L));
        devSpire.stop();
        await(IdentityEvent.StreamDown.class, d -> true);
        clock.advance(Duration.ofHours(2));
        assertThat(client.svid(7)).as("an expired SVID is not served").isEmpty();
        devSpire.startAgain();
    }

    @Test
    void tenThousandIdentitiesInOneUpdateAboveFourMebibytes() throws Exception {
        start();
        Set<Long> ids = LongStream.rangeClosed(1, 10_000).boxed().collect(Collectors.toSet());
        var result = registrar().reconcileIdentities(ids);
        assertThat(result.created()).isEqualTo(10_000);
        eventually("10,000 SVIDs held", Duration.ofSeconds(120), () -> client.svids().size() == 10_000);
        assertThat(client.svids().keySet()).isEqualTo(ids);
        List<IdentityEvent> rejected = events.stream().filter(IdentityEvent.SvidRejected.class::isInstance).toList();
        assertThat(rejected).isEmpty();
    }

    @Test
    void aStreamThatWentDownIsReopenedWhenItsBackoffElapsesOnTheInjectedTimersAndNotBefore() throws Exception {
        devSpire = DevSpire.start(clock);
        dev.meshauth.testing.FakeClock timers = new dev.meshauth.testing.FakeClock();
        Backoff svid = new Backoff(Duration.ofSeconds(2), Duration.ofSeconds(2), RandomGenerator.of("L64X128MixRandom"));
        Backoff bundle = new Backoff(Duration.ofSeconds(3), Duration.ofSeconds(3), RandomGenerator.of("L64X128MixRandom"));
        client = DelegatedIdentityClient.start(DelegatedIdentityOptions.defaults(devSpire.config().adminSocket(), DevSpire.TD),
                clock, svid, bundle, timers.scheduler(), events::add);
        await(IdentityEvent.StreamUp.class, u -> u.stream().equals("x509-svids"));
        devSpire.stop();
        Set<String> down = new java.util.HashSet<>();
        while (down.size() < 2) { // in either order
            down.add(await(IdentityEvent.StreamDown.class, d -> true).stream());
        }
        devSpire.startAgain();
        assertThat(timers.pendingDelays()).as("one reopen per stream, at its backoff")
                .containsExactly(Duration.ofSeconds(2), Duration.ofSeconds(3));
        events.clear();
        timers.advance(Duration.ofMillis(1999));
        assertThat(timers.pendingDelays()).hasSize(2);
        timers.advance(Duration.ofMillis(1));
        await(IdentityEvent.StreamUp.class, u -> u.stream().equals("x509-svids"));
        assertThat(events).noneMatch(e -> e instanceof IdentityEvent.StreamUp u && u.stream().equals("x509-bundles"));
        timers.advance(Duration.ofSeconds(1));
        await(IdentityEvent.StreamUp.class, u -> u.stream().equals("x509-bundles"));
        assertThat(client.reconnects()).isEqualTo(2);
    }

    @Test
    void theDevServersRotationRunsOnTheInjectedSchedulerAsFakeTimePassesHalfLife() throws Exception {
        dev.meshauth.testing.FakeClock fake = new dev.meshauth.testing.FakeClock(Instant.parse("2026-11-26T12:00:00Z"));
        devSpire = DevSpire.start(fake, fake.scheduler());
        client = DelegatedIdentityClient.start(DelegatedIdentityOptions.defaults(devSpire.config().adminSocket(), DevSpire.TD),
                fake, fastBackoff(), fastBackoff(), events::add);
        registrar().reconcileIdentities(Set.of(1000L));
        IdentityEvent.SvidAdded added = await(IdentityEvent.SvidAdded.class, a -> a.identity() == 1000);
        fake.advance(Duration.ofMinutes(31)); // SVID TTL 1 h: the dev server's 1 s tick passes half-life
        IdentityEvent.SvidRotated rotated = await(IdentityEvent.SvidRotated.class, r -> r.identity() == 1000);
        assertThat(rotated.previous().serial()).isEqualTo(added.svid().serial());
        assertThat(rotated.svid().notBefore()).as("issued at fake half-life (backdated 10 s)")
                .isEqualTo(Instant.parse("2026-11-26T12:29:50Z"));
    }
}
