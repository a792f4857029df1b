package dev.meshauth.agent.node;

import dev.meshauth.agent.handshake.TrustAnchors;

import java.security.cert.X509Certificate;
import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

/**
 * What the agent knows of its SPIRE agent connection: streams up or down with the last error, whether the
 * SVIDs have arrived once (readiness), and the trust bundle's roots, to tell a root that left from the
 * first bundle after start.
 */
final class SpireLink {
    private volatile boolean connected;
    private volatile boolean svidsSynced;
    private volatile String lastError;
    private volatile Set<String> lastRoots; // fingerprints of the last bundle; null until the first
    private final AtomicLong bundleChanges = new AtomicLong();

    void streamUp(String stream) {
        connected = true;
        lastError = null;
        if (stream.equals("x509-svids")) {
            svidsSynced = true;
        }
    }

    void streamDown(String stream, String reason) {
        connected = false;
        lastError = stream + " stream down: " + reason;
    }

    /**
     * Records a bundle; returns the fingerprints of its roots when a root that was there before is gone
     * (the first bundle after start is no change).
     */
    Optional<Set<String>> bundleReceived(List<X509Certificate> roots) {
        Set<String> now = new HashSet<>();
        roots.forEach(c -> now.add(TrustAnchors.fingerprint(c)));
        Set<String> before = lastRoots;
        lastRoots = Set.copyOf(now);
        bundleChanges.incrementAndGet();
        return before != null && !now.containsAll(before) ? Optional.of(Set.copyOf(now)) : Optional.empty();
    }

    /** What keeps the agent from being ready; empty when ready (the SVIDs arrived once). */
    java.util.List<String> notReady(java.nio.file.Path adminSocket) {
        return svidsSynced ? java.util.List.of() : java.util.List.of("SVIDs not synced from the SPIRE agent at " + adminSocket
                + (lastError == null ? "" : " (" + lastError + ")"));
    }

    boolean connected() {
        return connected;
    }

    boolean svidsSynced() {
        return svidsSynced;
    }

    String lastError() {
        return lastError;
    }

    long bundleChanges() {
        return bundleChanges.get();
    }
}
