package dev.meshauth.bpf.auth;

import java.util.Objects;

/**
 * One authenticated identity pair: Cilium's {@code struct auth_key} (bpf/lib/common.h).
 *
 * @param localIdentity  security identity of the endpoint on this node (u32)
 * @param remoteIdentity security identity of the peer (u32)
 * @param remoteNodeId   Cilium node id of the peer's node (u16); 0 means this node
 * @param authType       the authentication the policy demands
 */
public record AuthKey(long localIdentity, long remoteIdentity, int remoteNodeId, AuthType authType) {
    /** Checks every field fits its width in the kernel struct. */
    public AuthKey {
        requireU32("localIdentity", localIdentity);
        requireU32("remoteIdentity", remoteIdentity);
        if (remoteNodeId < 0 || remoteNodeId > 0xFFFF) {
            throw new IllegalArgumentException("remoteNodeId must be 0..65535, got " + remoteNodeId);
        }
        Objects.requireNonNull(authType, "authType");
    }

    private static void requireU32(String name, long v) {
        if (v < 0 || v > 0xFFFF_FFFFL) {
            throw new IllegalArgumentException(name + " must be 0.." + 0xFFFF_FFFFL + ", got " + v);
        }
    }

    @Override
    public String toString() {
        return "{local=" + localIdentity + " remote=" + remoteIdentity + " remoteNode=" + remoteNodeId
                + " type=" + authType + "}";
    }
}
