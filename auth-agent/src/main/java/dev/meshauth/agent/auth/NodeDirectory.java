package dev.meshauth.agent.auth;

import java.net.InetSocketAddress;
import java.util.Optional;

/** Where the agent of a node listens: its InternalIP and the mutual auth port. Node id 0 is this node. */
@FunctionalInterface
public interface NodeDirectory {
    /** The agent address of node {@code nodeId}, if the node is known. */
    Optional<InetSocketAddress> agentAddress(int nodeId);
}
