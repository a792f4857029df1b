package dev.meshauth.agent.auth;

import dev.meshauth.agent.handshake.HandshakeException;
import dev.meshauth.agent.handshake.HandshakeResult;

import java.net.InetSocketAddress;
import java.time.Instant;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.atomic.AtomicInteger;

/** An {@link Authenticator} with failure switches, recording every call. Real one: MutualAuthClient. */
final class FakeAuthenticator implements Authenticator {
    record Call(long local, long remote, InetSocketAddress peer) {
    }

    final List<Call> calls = new CopyOnWriteArrayList<>();
    final AtomicInteger failNext = new AtomicInteger();
    volatile Instant expiresAt = Instant.parse("2100-01-01T00:00:00Z");
    volatile CountDownLatch gate; // when set, calls wait for it
    volatile java.util.Set<String> anchors = java.util.Set.of("root-a");

    @Override
    public CompletableFuture<HandshakeResult> authenticate(long local, long remote, InetSocketAddress peer) {
        calls.add(new Call(local, remote, peer));
        CountDownLatch g = gate;
        if (g != null) {
            try {
                g.await();
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
            }
        }
        if (failNext.getAndUpdate(n -> Math.max(0, n - 1)) > 0) {
            return CompletableFuture.failedFuture(new HandshakeException(HandshakeException.Reason.PEER_REFUSED,
                    "fake refusal", null));
        }
        return CompletableFuture.completedFuture(new HandshakeResult("spiffe://spiffe.cilium/identity/" + remote, expiresAt, anchors));
    }

    long callsFor(long local, long remote) {
        return calls.stream().filter(c -> c.local() == local && c.remote() == remote).count();
    }
}
