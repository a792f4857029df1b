package dev.meshauth.policy.model;

import java.util.Objects;

/**
 * A port, or a range when {@code endPort > port}, of one protocol; port 0 means every port. For ICMP and
 * ICMPv6 the "port" is the ICMP type ({@code port == endPort}, 0..255). ANY with port 0 means every
 * protocol; ANY with a port means TCP, UDP and SCTP on it.
 *
 * @param port     first port (0: any)
 * @param endPort  last port, equal to {@code port} for a single port
 * @param protocol the protocol
 */
public record PortProtocol(int port, int endPort, Protocol protocol) {
    /** Range checks. */
    public PortProtocol {
        Objects.requireNonNull(protocol);
        if (port < 0 || port > 65535 || endPort < port || endPort > 65535) {
            throw new IllegalArgumentException("bad port range " + port + "-" + endPort);
        }
        if ((protocol == Protocol.ICMP || protocol == Protocol.ICMPV6) && (port != endPort || port > 255)) {
            throw new IllegalArgumentException("an ICMP type is one number 0..255, got " + port + "-" + endPort);
        }
    }

    /** Every port of every protocol. */
    public static final PortProtocol ANY = new PortProtocol(0, 0, Protocol.ANY);

    /** An ICMP (or ICMPv6) type. */
    public static PortProtocol icmp(Protocol family, int type) {
        return new PortProtocol(type, type, family);
    }
}
