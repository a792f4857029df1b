package dev.meshauth.bpf.datapath;

import java.util.Objects;

/**
 * A policy map key, as Cilium's LPM policy map keys entries: the local and remote identities and the
 * direction match exactly; the protocol matches exactly or, as 0, every protocol; the destination port
 * (for ICMP, the type) matches on its first {@code prefixLen} bits. The program finds the longest match
 * with the packet's remote identity, then with remote 0 (any).
 *
 * @param localIdentity  identity of the endpoint the policy protects
 * @param remoteIdentity peer identity, 0 for any
 * @param protocol       IP protocol, 0 for any (then port and prefix are 0)
 * @param port           destination port (host order) or ICMP type, its bits past the prefix zero
 * @param prefixLen      0..16 leading port bits that must match
 * @param direction      ingress or egress
 */
public record PolicyKey(long localIdentity, long remoteIdentity, int protocol, int port, int prefixLen, Direction direction) {
    /** Wildcard value for remote identity and protocol. */
    public static final int ANY = 0;
    /** IP protocol numbers. */
    public static final int ICMP = 1;
    public static final int TCP = 6;
    public static final int UDP = 17;
    public static final int ICMPV6 = 58;
    public static final int SCTP = 132;

    /** Range checks. */
    public PolicyKey {
        if (localIdentity <= 0 || localIdentity > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("local identity must be a non-zero u32, got " + localIdentity);
        }
        if (remoteIdentity < 0 || remoteIdentity > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException("remote identity must be a u32, got " + remoteIdentity);
        }
        if (protocol < 0 || protocol > 255) {
            throw new IllegalArgumentException("protocol must be 0..255, got " + protocol);
        }
        if (port < 0 || port > 0xFFFF || prefixLen < 0 || prefixLen > 16) {
            throw new IllegalArgumentException("port must be 0..65535 and its prefix 0..16, got " + port + "/" + prefixLen);
        }
        if (protocol == ANY && (port != 0 || prefixLen != 0)) {
            throw new IllegalArgumentException("a key for every protocol has no port, got " + port + "/" + prefixLen);
        }
        int mask = prefixLen == 0 ? 0 : (0xFFFF << (16 - prefixLen)) & 0xFFFF;
        if ((port & ~mask) != 0) {
            throw new IllegalArgumentException("port " + port + " has bits set past /" + prefixLen);
        }
        Objects.requireNonNull(direction, "direction");
    }

    /** One port (or ICMP type) of one protocol. */
    public static PolicyKey port(long local, long remote, int protocol, int port, Direction direction) {
        return new PolicyKey(local, remote, protocol, port, 16, direction);
    }

    /** Every port of one protocol. */
    public static PolicyKey anyPort(long local, long remote, int protocol, Direction direction) {
        return new PolicyKey(local, remote, protocol, 0, 0, direction);
    }

    /** Every protocol and port. */
    public static PolicyKey anyProtocol(long local, long remote, Direction direction) {
        return new PolicyKey(local, remote, ANY, 0, 0, direction);
    }

    /** The LPM prefix length in bits over {local, remote, dir, proto, dport}: 72 for any protocol, 80 + port bits. */
    int lpmPrefixLen() {
        return protocol == ANY ? 72 : 80 + prefixLen;
    }
}
