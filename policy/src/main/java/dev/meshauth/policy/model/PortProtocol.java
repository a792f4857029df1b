package dev.meshauth.policy.model;

import java.util.Objects;

/**
 * A port, or a range when {@code endPort > port}; port 0 means every port.
 *
 * @param port     first port (0: any)
 * @param endPort  last port, equal to {@code port} for a single port
 * @param protocol TCP, UDP or ANY
 */
public record PortProtocol(int port, int endPort, Protocol protocol) {
    /** Range checks. */
    public PortProtocol {
        Objects.requireNonNull(protocol);
        if (port < 0 || port > 65535 || endPort < port || endPort > 65535) {
            throw new IllegalArgumentException("bad port range " + port + "-" + endPort);
        }
    }

    /** Every port of every protocol. */
    public static final PortProtocol ANY = new PortProtocol(0, 0, Protocol.ANY);

    /** True if {@code p}/{@code proto} falls in this range (proto 6 or 17). */
    public boolean covers(int p, Protocol proto) {
        boolean portOk = port == 0 || (p >= port && p <= endPort);
        return portOk && (protocol == Protocol.ANY || protocol == proto);
    }
}
