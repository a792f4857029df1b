package dev.meshauth.policy.eval;

import dev.meshauth.policy.model.Direction;

/**
 * A policy map key in the standalone datapath's terms, as Cilium's policy map keys it: remote 0 is any
 * peer; protocol 0 is every protocol (then port and prefix are 0); otherwise the destination port (for
 * ICMP, the type) matches on its first {@code prefixLen} bits, so a port range is a few keys, not one per
 * port.
 *
 * @param local     local (selected) identity
 * @param remote    peer identity, 0 for any
 * @param protocol  IP protocol, 0 for any
 * @param port      destination port (ICMP type), its bits past the prefix zero
 * @param prefixLen 0..16 leading port bits that must match: 16 one port, 0 every port
 * @param direction ingress or egress
 */
public record EntryKey(long local, long remote, int protocol, int port, int prefixLen, Direction direction) {
    /** Checks the fields: a wildcard protocol has no port; no port bits past the prefix. */
    public EntryKey {
        if (prefixLen < 0 || prefixLen > 16 || port < 0 || port > 0xFFFF || protocol < 0 || protocol > 255) {
            throw new IllegalArgumentException("bad policy key: protocol " + protocol + ", port " + port + "/" + prefixLen);
        }
        if (protocol == 0 && (port != 0 || prefixLen != 0)) {
            throw new IllegalArgumentException("a key for every protocol has no port, got " + port + "/" + prefixLen);
        }
        if ((port & ~PortPrefix.mask(prefixLen)) != 0) {
            throw new IllegalArgumentException("port " + port + " has bits set past /" + prefixLen);
        }
    }

    /** A key for one port (or ICMP type) of one protocol. */
    public static EntryKey exact(long local, long remote, int protocol, int port, Direction direction) {
        return new EntryKey(local, remote, protocol, port, 16, direction);
    }

    /** The key matching every protocol and port. */
    public static EntryKey anyProtocol(long local, long remote, Direction direction) {
        return new EntryKey(local, remote, 0, 0, 0, direction);
    }

    /** True if this key matches a packet of {@code protocol} to {@code port} (any remote aside). */
    public boolean matches(int packetProtocol, int packetPort) {
        return protocol == 0 || (protocol == packetProtocol && (packetPort & PortPrefix.mask(prefixLen)) == port);
    }

    /** True if every packet {@code k} matches, this key matches too (k is as specific or more). */
    public boolean covers(EntryKey k) {
        if (local != k.local || direction != k.direction || (remote != 0 && remote != k.remote)) {
            return false;
        }
        if (protocol == 0) {
            return true;
        }
        return protocol == k.protocol && prefixLen <= k.prefixLen && (k.port & PortPrefix.mask(prefixLen)) == port;
    }

    /** The same key for another remote. */
    EntryKey withRemote(long r) {
        return new EntryKey(local, r, protocol, port, prefixLen, direction);
    }

    /** The first port this key matches (0 for every protocol). */
    public int firstPort() {
        return port;
    }

    /** The last port this key matches. */
    public int lastPort() {
        return protocol == 0 ? 0xFFFF : port | (~PortPrefix.mask(prefixLen) & 0xFFFF);
    }

    /**
     * The keys that cover this one for the same remote, most specific first, this one excluded: the
     * shorter port prefixes of its protocol, then every protocol.
     */
    java.util.List<EntryKey> wider() {
        java.util.List<EntryKey> out = new java.util.ArrayList<>(prefixLen + 1);
        if (protocol == 0) {
            return out;
        }
        for (int len = prefixLen - 1; len >= 0; len--) {
            out.add(new EntryKey(local, remote, protocol, port & PortPrefix.mask(len), len, direction));
        }
        out.add(anyProtocol(local, remote, direction));
        return out;
    }
}
