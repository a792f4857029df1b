package dev.meshauth.bpf.datapath;

import java.util.Objects;

/**
 * A policy map key. Zero means "any" for {@code remoteIdentity}, {@code port} and {@code protocol}; see
 * {@link EnforcementProgram} for the order in which the wildcards are tried.
 *
 * @param localIdentity  identity of the endpoint the policy protects
 * @param remoteIdentity peer identity, 0 for any
 * @param port           destination port (host order), 0 for any
 * @param protocol       IP protocol (6 TCP, 17 UDP), 0 for any
 * @param direction      ingress or egress
 */
public record PolicyKey(long localIdentity, long remoteIdentity, int port, int protocol, Direction direction) {
    /** Wildcard value for remote identity, port and protocol. */
    public static final int ANY = 0;
    /** IP protocol number of TCP. */
    public static final int TCP = 6;
    /** IP protocol number of UDP. */
    public static final int UDP = 17;

    /** Range checks. */
    public PolicyKey {
        if (localIdentity <= 0 || localIdentity > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("local identity must be a non-zero u32, got " + localIdentity);
        }
        if (remoteIdentity < 0 || remoteIdentity > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("remote identity must be a u32, got " + remoteIdentity);
        }
        if (port < 0 || port > 0xFFFF) {
            throw new IllegalArgumentException("port must be 0..65535, got " + port);
        }
        if (protocol != ANY && protocol != TCP && protocol != UDP) {
            throw new IllegalArgumentException("protocol must be 0 (any), 6 (TCP) or 17 (UDP), got " + protocol);
        }
        Objects.requireNonNull(direction, "direction");
    }
}
