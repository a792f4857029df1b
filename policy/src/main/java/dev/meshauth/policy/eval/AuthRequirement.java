package dev.meshauth.policy.eval;

import dev.meshauth.policy.model.AuthType;

/**
 * An auth map key that current policies and endpoints need, on the node that enforces it: authenticate
 * it before the first packet instead of after a drop.
 *
 * @param node         the node where the entry must exist (the local endpoint's node)
 * @param local        local identity
 * @param remote       remote identity
 * @param remoteNodeId the remote endpoint's node id, 0 if it is on the same node
 * @param authType     the authentication demanded
 */
public record AuthRequirement(String node, long local, long remote, int remoteNodeId, AuthType authType) {
}
