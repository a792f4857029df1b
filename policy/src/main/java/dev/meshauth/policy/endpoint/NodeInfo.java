package dev.meshauth.policy.endpoint;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.OptionalInt;

/**
 * A node: where endpoints live and where the agent authenticates from.
 *
 * @param name       node name
 * @param id         Cilium node id (1..65535; 0 means "this node" in the auth map)
 * @param internalIp the InternalIP the agents dial (never an ExternalIP: cilium#46720)
 */
public record NodeInfo(String name, int id, String internalIp) {
    /** Node ids by node name. */
    public static Map<String, Integer> idsByName(List<NodeInfo> nodes) {
        Map<String, Integer> out = new HashMap<>();
        nodes.forEach(n -> out.put(n.name(), n.id()));
        return out;
    }

    /**
     * The node id by which an endpoint on {@code localNode} keys a peer on {@code remoteNode}, in the auth
     * map and the ipcache: 0 if both are on the same node (Cilium's "this node"); the remote node's id
     * otherwise; empty if that node has no id yet, so the peer cannot be keyed at all (never as 0, which
     * would mean local).
     */
    public static OptionalInt remoteNodeId(String localNode, String remoteNode, Map<String, Integer> idsByName) {
        if (localNode.equals(remoteNode)) {
            return OptionalInt.of(0);
        }
        Integer id = idsByName.get(remoteNode);
        return id == null ? OptionalInt.empty() : OptionalInt.of(id);
    }
}
