package dev.meshauth.agent.auth;

import dev.meshauth.agent.events.FailureReason;
import dev.meshauth.agent.handshake.HandshakeException;
import dev.meshauth.agent.handshake.HandshakeResult;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import java.util.Set;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * An {@link Authenticator} with failure switches, recording every call; with {@link #hold} set, handshakes
 * stay in flight until the test {@link #release}s them. Real one: MutualAuthClient.
 */
final class FakeAuthenticator implements Authenticator {
    record Call(long local, long remote, InetSocketAddress peer) {
    }

    final List<Call> calls = new CopyOnWriteArrayList<>();
    final AtomicInteger failNext = new AtomicInteger();
    volatile Instant expiresAt = Instant.parse("2100-01-01T00:00:00Z");
    volatile Set<String> anchors = Set.of("root-a");
    volatile boolean hold;
    private final List<Runnable> inFlight = new CopyOnWriteArrayList<>();

    @Override
    public CompletableFuture<HandshakeResult> authenticate(long local, long remote, InetSocketAddress peer) {
        calls.add(new Call(local, remote, peer));
        CompletableFuture<HandshakeResult> f = new CompletableFuture<>();
        Runnable finish = () -> {
            if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
                f.completeExceptionally(new HandshakeException(FailureReason.PEER_REFUSED, "fake refusal", null));
            } else {
                f.complete(new HandshakeResult("spiffe://spiffe.cilium/identity/" + remote, expiresAt, anchors,
                        HandshakeResult.Negotiated.NONE));
            }
        };
        if (hold) {
            inFlight.add(finish);
        } else {
            finish.run();
        }
        return f;
    }

    /** Completes every handshake held in flight, on the caller's thread; returns how many. */
    int release() {
        List<Runnable> now = List.copyOf(inFlight);
        inFlight.removeAll(now);
        now.forEach(Runnable::run);
        return now.size();
    }

    /** Handshakes held in flight. */
    int inFlight() {
        return inFlight.size();
    }

    long callsFor(long local, long remote) {
        return calls.stream().filter(c -> c.local() == local && c.remote() == remote).count();
    }
}
