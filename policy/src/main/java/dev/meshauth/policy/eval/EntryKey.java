package dev.meshauth.policy.eval;

import dev.meshauth.policy.model.Direction;

/**
 * A policy map key in the standalone datapath's terms: 0 is "any" for remote, port and protocol.
 *
 * @param local     local (selected) identity
 * @param remote    peer identity, 0 for any
 * @param port      destination port, 0 for any
 * @param protocol  6 TCP, 17 UDP, 0 any
 * @param direction ingress or egress
 */
public record EntryKey(long local, long remote, int port, int protocol, Direction direction) {
    /** True if this (possibly wildcard) key covers {@code k}. */
    public boolean covers(EntryKey k) {
        return local == k.local && direction == k.direction && (remote == 0 || remote == k.remote)
                && (port == 0 || port == k.port) && (protocol == 0 || protocol == k.protocol);
    }
}
