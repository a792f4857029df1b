package dev.meshauth.agent.status;

import dev.meshauth.agent.events.AuthEvent;

/** Auth events as their JSON shape. */
public final class Events {
    private Events() {
    }

    /** {@code e} as served by {@code /v1/events}. */
    public static StatusModel.Event of(AuthEvent e) {
        String type = e.kind().label();
        return switch (e) {
            case AuthEvent.HandshakeSucceeded s -> new StatusModel.Event(s.at(), type, "succeeded", s.key().localIdentity(),
                    s.key().remoteIdentity(), s.key().remoteNodeId(), s.key().authType().toString(), null, s.origin().label(),
                    ms(s.handshake()), s.expiresAt(), null);
            case AuthEvent.HandshakeFailed f -> new StatusModel.Event(f.at(), type, "failed", f.key().localIdentity(),
                    f.key().remoteIdentity(), f.key().remoteNodeId(), f.key().authType().toString(), f.reason().label(),
                    f.origin().label(), ms(f.handshake()), null, f.detail());
            case AuthEvent.AuthRequiredDrop d -> new StatusModel.Event(d.at(), type, "auth-required", d.key().localIdentity(),
                    d.key().remoteIdentity(), d.key().remoteNodeId(), d.key().authType().toString(), null, null, null, null, null);
            case AuthEvent.EntryDeleted d -> new StatusModel.Event(d.at(), type, "deleted", d.key().localIdentity(),
                    d.key().remoteIdentity(), d.key().remoteNodeId(), d.key().authType().toString(), d.reason().label(), null,
                    null, null, null);
            case AuthEvent.SvidRotated r -> new StatusModel.Event(r.at(), type, "rotated", r.identity(), null, null, null, null,
                    null, null, r.notAfter(), "serial " + r.serial());
            case AuthEvent.InboundHandshake i -> new StatusModel.Event(i.at(), type, i.accepted() ? "accepted" : "refused",
                    i.served().isPresent() ? i.served().getAsLong() : null, i.client().isPresent() ? i.client().getAsLong() : null,
                    null, null, i.accepted() ? null : i.reason(), "inbound", null, null,
                    "from " + i.peerNode().map(n -> n + " ").orElse("") + i.peer() + (i.detail().isEmpty() ? "" : ": " + i.detail()));
        };
    }

    private static double ms(java.time.Duration d) {
        return Math.round(d.toNanos() / 1e3) / 1e3;
    }
}
