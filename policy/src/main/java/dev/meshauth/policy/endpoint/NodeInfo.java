package dev.meshauth.policy.endpoint;

/**
 * A node: where endpoints live and where the agent authenticates from.
 *
 * @param name       node name
 * @param id         Cilium node id (1..65535; 0 means "this node" in the auth map)
 * @param internalIp the InternalIP the agents dial (never an ExternalIP: cilium#46720)
 */
public record NodeInfo(String name, int id, String internalIp) {
}
