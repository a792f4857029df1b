package dev.meshauth.agent.handshake;

import java.util.Locale;

/** Why this node's listener refused a peer's handshake. */
public enum InboundRefusal {
    /** The first record is not a TLS handshake (a port scan, a plaintext client). */
    NOT_TLS,
    /** The ClientHello named no server (no SNI). */
    NO_SNI,
    /** The SNI is not {@code <identity>.<trust domain>} of our trust domain. */
    FOREIGN_SNI,
    /** The identity asked for has no endpoint on this node. */
    NOT_HOSTED,
    /** This node holds no SVID for the identity asked for (yet). */
    NO_LOCAL_SVID,
    /** The client's certificate broke a rule (chain, trust domain, SPIFFE ID, profile, validity). */
    CLIENT_CERTIFICATE,
    /** Too many connections in handshake at once, from every peer together. */
    OVERLOADED,
    /** Too many connections in handshake at once from this peer's address. */
    PEER_LIMIT,
    /** No complete handshake within the handshake timeout (a silent connection, a slow drip). */
    TIMEOUT,
    /** The client closed the connection before the handshake completed. */
    INCOMPLETE,
    /** Any other TLS failure (a malformed record, an unsupported version, the client's own alert). */
    TLS;

    /** Lower case with dashes, for logs, events and metrics. */
    public String label() {
        return name().toLowerCase(Locale.ROOT).replace('_', '-');
    }
}
