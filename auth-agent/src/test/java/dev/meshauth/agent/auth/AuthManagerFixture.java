package dev.meshauth.agent.auth;

import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.time.Clocks;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.auth.InMemoryAuthMap;
import dev.meshauth.testing.FakeClock;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;

import java.net.InetSocketAddress;
import java.time.Duration;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.random.RandomGenerator;

/**
 * The auth manager over the in-memory auth map, a fake authenticator and a fake clock: time moves, and
 * work runs, only when the test says so. Shared by the manager's tests.
 */
abstract class AuthManagerFixture {
    static final AuthKey TIE = new AuthKey(1000, 2000, 2, AuthType.SPIRE);
    static final AuthKey TIE2 = new AuthKey(1000, 2001, 2, AuthType.SPIRE);
    static final InetSocketAddress NODE2 = new InetSocketAddress("127.0.0.2", 4250);
    static final GcScope ALL_KNOWN = new GcScope(Set.of(2), Optional.empty(), Optional.empty(), true);

    final FakeClock clock = new FakeClock();
    final InMemoryAuthMap map = new InMemoryAuthMap(1024);
    final FakeAuthenticator auth = new FakeAuthenticator();
    final NodeDirectory nodes = id -> id == 2 ? Optional.of(NODE2) : Optional.empty();
    final List<AuthEvent> events = new CopyOnWriteArrayList<>();
    AuthManager manager;

    AuthManager start(AuthManagerOptions o) throws Exception {
        return start(o, () -> { });
    }

    AuthManager start(AuthManagerOptions o, Runnable beforeStore) throws Exception {
        return new AuthManager(map, auth, nodes, new Clocks(clock, clock.ticker(), clock.scheduler()), clock.scheduler(), o,
                RandomGenerator.of("L64X128MixRandom"), events::add, beforeStore);
    }

    static AuthManagerOptions retriesAfter(Duration retry) {
        return new AuthManagerOptions(1024, Duration.ofSeconds(30), 4, retry, retry, Duration.ofSeconds(5));
    }

    @BeforeEach
    void setUp() throws Exception {
        manager = start(retriesAfter(Duration.ofMillis(20)));
    }

    @AfterEach
    void tearDown() {
        manager.close();
    }

    /** Runs what is due now: queued requests start, completed handshakes are written. */
    void settle() {
        clock.runDueTasks();
    }
}
