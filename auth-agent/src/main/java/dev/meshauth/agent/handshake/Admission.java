package dev.meshauth.agent.handshake;

import java.net.InetAddress;
import java.util.Optional;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * Who may start a handshake with the listener: at most {@code perPeer} connections in handshake from one
 * address, and {@code global} in all. A peer that floods (silent connections, a slow drip, garbage) fills
 * only its own share, so the other nodes' agents keep authenticating; what holds a slot holds it at most
 * the handshake timeout. Thread-safe: admitted on the accepting event loop, released on close or when the
 * handshake ends.
 */
final class Admission {
    private final int global;
    private final int perPeer;
    private final AtomicInteger total = new AtomicInteger();
    private final ConcurrentHashMap<InetAddress, Integer> byPeer = new ConcurrentHashMap<>();

    Admission(int global, int perPeer) {
        if (global < 1 || perPeer < 1) {
            throw new IllegalArgumentException("handshake limits must be positive: global " + global + ", per peer " + perPeer);
        }
        this.global = global;
        this.perPeer = perPeer;
    }

    /** Takes a slot for {@code peer}, or says which limit refuses it (nothing is taken then). */
    Optional<InboundRefusal> admit(InetAddress peer) {
        for (int n = total.get(); ; n = total.get()) { // never above the limit, not even for a moment
            if (n >= global) {
                return Optional.of(InboundRefusal.OVERLOADED);
            }
            if (total.compareAndSet(n, n + 1)) {
                break;
            }
        }
        boolean[] full = {false};
        byPeer.compute(peer, (k, n) -> {
            int held = n == null ? 0 : n;
            if (held >= perPeer) {
                full[0] = true;
                return n;
            }
            return held + 1;
        });
        if (full[0]) {
            total.decrementAndGet();
            return Optional.of(InboundRefusal.PEER_LIMIT);
        }
        return Optional.empty();
    }

    /** Gives back a slot {@link #admit} took for {@code peer}. */
    void release(InetAddress peer) {
        byPeer.computeIfPresent(peer, (k, n) -> n <= 1 ? null : n - 1);
        total.decrementAndGet();
    }

    /** Connections in handshake now. */
    int inHandshake() {
        return total.get();
    }

    /** Addresses holding a slot now (bounded by {@code global}). */
    int peers() {
        return byPeer.size();
    }

    int global() {
        return global;
    }

    int perPeer() {
        return perPeer;
    }
}
