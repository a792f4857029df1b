package dev.meshauth.agent.events;

import dev.meshauth.bpf.auth.AuthKey;

import java.time.Duration;
import java.time.Instant;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * What happened to authentication on this node: one stream feeds {@code meshauth observe}, the metrics
 * and the status API's recent events.
 */
public sealed interface AuthEvent permits AuthEvent.PairEvent, AuthEvent.SvidRotated, AuthEvent.InboundHandshake {
    /** When it happened. */
    Instant at();

    /** The {@code --type} filter of {@code meshauth observe}. */
    Kind kind();

    /** True if {@code identity} is one of the identities involved. */
    boolean involves(long identity);

    /** An event about one identity pair. */
    sealed interface PairEvent extends AuthEvent {
        /** The pair. */
        AuthKey key();

        @Override
        default boolean involves(long identity) {
            return key().localIdentity() == identity || key().remoteIdentity() == identity;
        }
    }

    /** Event kinds. */
    enum Kind {
        HANDSHAKE, DROP, GC, ROTATION;

        /** The lower-case name used on the command line and in JSON. */
        public String label() {
            return name().toLowerCase(java.util.Locale.ROOT);
        }
    }

    /** An identity pair authenticated and written to the auth map. */
    record HandshakeSucceeded(Instant at, AuthKey key, Origin origin, Duration handshake, Duration sinceRequest,
            Instant expiresAt) implements PairEvent {
        @Override
        public Kind kind() {
            return Kind.HANDSHAKE;
        }
    }

    /** An authentication failed, and why. */
    record HandshakeFailed(Instant at, AuthKey key, Origin origin, FailureReason reason, String detail,
            Duration handshake) implements PairEvent {
        @Override
        public Kind kind() {
            return Kind.HANDSHAKE;
        }
    }

    /** The datapath dropped a packet because the pair was not authenticated (an auth-required signal). */
    record AuthRequiredDrop(Instant at, AuthKey key) implements PairEvent {
        @Override
        public Kind kind() {
            return Kind.DROP;
        }
    }

    /** An auth entry was deleted, and why. */
    record EntryDeleted(Instant at, AuthKey key, GcReason reason) implements PairEvent {
        @Override
        public Kind kind() {
            return Kind.GC;
        }
    }

    /** A workload SVID this node holds rotated (or arrived). */
    record SvidRotated(Instant at, long identity, String serial, Instant notAfter) implements AuthEvent {
        @Override
        public Kind kind() {
            return Kind.ROTATION;
        }

        @Override
        public boolean involves(long id) {
            return identity == id;
        }
    }

    /**
     * A peer agent's handshake with this node's listener, as the server saw it.
     *
     * @param peer     the peer's address and port
     * @param peerNode the node at that address, if known
     * @param served   the local identity asked for (SNI), if any
     * @param client   the client's identity, if its certificate was valid
     * @param accepted true if verified and told so (close_notify)
     * @param reason   why it was refused ({@code InboundRefusal} label), empty if accepted
     * @param detail   the validator's rule or the SNI refused, empty if accepted
     */
    record InboundHandshake(Instant at, String peer, Optional<String> peerNode, OptionalLong served,
            OptionalLong client, boolean accepted, String reason, String detail) implements AuthEvent {
        @Override
        public Kind kind() {
            return Kind.HANDSHAKE;
        }

        @Override
        public boolean involves(long identity) {
            return (served.isPresent() && served.getAsLong() == identity) || (client.isPresent() && client.getAsLong() == identity);
        }
    }
}
