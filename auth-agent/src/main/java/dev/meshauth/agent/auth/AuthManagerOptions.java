package dev.meshauth.agent.auth;

import java.time.Duration;

/**
 * Auth manager settings, with Cilium's flag names where Cilium has one.
 *
 * @param queueSize      {@code --mesh-auth-queue-size}: datapath signals waiting; beyond it they are dropped, counted
 *                       (the agent's own work, policy, rotation and refresh, is never dropped)
 * @param signalBackoff  {@code --mesh-auth-signal-backoff-duration}: a key stored this recently is not
 *                       redone on a signal (unless it vanished from the kernel map)
 * @param workers        handshakes run at once
 * @param retryMin       first retry delay after a failure (jittered, doubling)
 * @param retryMax       longest retry delay
 * @param refreshBefore  re-authenticate required entries this long before they expire
 * @param proactive      authenticate the pairs policies require before traffic (meshauth's default); false is
 *                       Cilium's behaviour: only when the datapath drops a packet and signals
 */
public record AuthManagerOptions(int queueSize, Duration signalBackoff, int workers, Duration retryMin, Duration retryMax,
        Duration refreshBefore, boolean proactive) {
    /** Proactive. */
    public AuthManagerOptions(int queueSize, Duration signalBackoff, int workers, Duration retryMin, Duration retryMax,
            Duration refreshBefore) {
        this(queueSize, signalBackoff, workers, retryMin, retryMax, refreshBefore, true);
    }

    /** A copy with {@code proactive} set. */
    public AuthManagerOptions withProactive(boolean on) {
        return new AuthManagerOptions(queueSize, signalBackoff, workers, retryMin, retryMax, refreshBefore, on);
    }

    /** 1024, 1 s, 8 workers, retries 500 ms to 30 s, refresh 1 min before expiry. */
    public static final AuthManagerOptions DEFAULTS = new AuthManagerOptions(1024, Duration.ofSeconds(1), 8,
            Duration.ofMillis(500), Duration.ofSeconds(30), Duration.ofMinutes(1));
}
