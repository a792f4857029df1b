package dev.meshauth.agent.events;

import dev.meshauth.bpf.auth.AuthKey;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;
import org.slf4j.spi.LoggingEventBuilder;

import java.util.function.IntFunction;

/**
 * Every auth decision as one log line with the same keys in text and JSON: {@code local}, {@code remote},
 * {@code remote_node} (id) and {@code node} (its name), {@code auth_type}, {@code reason} or {@code origin},
 * and durations in milliseconds.
 */
public final class DecisionLog implements java.util.function.Consumer<AuthEvent> {
    private static final Logger LOG = LoggerFactory.getLogger("dev.meshauth.auth");

    private final IntFunction<String> nodeNames;

    /** {@code nodeNames} names a node id ("?" when unknown). */
    public DecisionLog(IntFunction<String> nodeNames) {
        this.nodeNames = nodeNames;
    }

    @Override
    public void accept(AuthEvent e) {
        switch (e) {
            case AuthEvent.HandshakeSucceeded s -> pair(LOG.atInfo(), s.key())
                    .addKeyValue("origin", s.origin().label())
                    .addKeyValue("handshake_ms", millis(s.handshake()))
                    .addKeyValue("since_request_ms", millis(s.sinceRequest()))
                    .addKeyValue("expires", s.expiresAt().toString())
                    .log("authenticated");
            case AuthEvent.HandshakeFailed f -> pair(expected(f.reason()) ? LOG.atInfo() : LOG.atWarn(), f.key())
                    .addKeyValue("origin", f.origin().label())
                    .addKeyValue("reason", f.reason().label())
                    .addKeyValue("detail", f.detail())
                    .addKeyValue("handshake_ms", millis(f.handshake()))
                    .log("authentication failed");
            case AuthEvent.AuthRequiredDrop d -> pair(LOG.atDebug(), d.key()).log("auth-required drop");
            case AuthEvent.EntryDeleted d -> pair(LOG.atInfo(), d.key())
                    .addKeyValue("reason", d.reason().label())
                    .log("auth entry deleted");
            case AuthEvent.InboundHandshake i -> { } // the listener logs its own accepts and refusals, once
            case AuthEvent.SvidRotated r -> LOG.atInfo()
                    .addKeyValue("identity", r.identity())
                    .addKeyValue("serial", r.serial())
                    .addKeyValue("not_after", r.notAfter().toString())
                    .log("SVID rotated");
        }
    }

    /**
     * Outcomes by design, not faults: SPIRE revoked an SVID (the pair must not authenticate), or the policy
     * asked for test-always-fail. Logged at INFO; every other failure at WARN.
     */
    private static boolean expected(FailureReason r) {
        return r == FailureReason.SVID_REMOVED || r == FailureReason.TEST_ALWAYS_FAIL;
    }

    private LoggingEventBuilder pair(LoggingEventBuilder b, AuthKey k) {
        return b.addKeyValue("local", k.localIdentity())
                .addKeyValue("remote", k.remoteIdentity())
                .addKeyValue("remote_node", k.remoteNodeId())
                .addKeyValue("node", nodeNames.apply(k.remoteNodeId()))
                .addKeyValue("auth_type", k.authType().toString());
    }

    private static String millis(java.time.Duration d) {
        return String.format(java.util.Locale.ROOT, "%.3f", d.toNanos() / 1e6);
    }
}
