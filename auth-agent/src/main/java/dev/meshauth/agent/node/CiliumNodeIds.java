package dev.meshauth.agent.node;

import dev.meshauth.agent.node.source.ClusterSnapshot;
import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.cilium.CiliumNodeMap;
import dev.meshauth.policy.endpoint.NodeInfo;

import java.net.Inet4Address;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * Feeding Cilium's datapath: node ids must be the ones Cilium's datapath computes, which it reads from
 * its own node map by the peer's node IP. This renumbers a cluster view with those ids; a node Cilium has
 * not given an id yet is left out of the nodes (its endpoints stay, so policy and check still see them; their
 * pairs cannot be keyed until it has one), and named so the agent can say so and try again. This node keeps
 * id 0 (Cilium's "local node").
 */
final class CiliumNodeIds implements AutoCloseable {
    /** A renumbered view, and the nodes left out. */
    record Translation(ClusterSnapshot cluster, List<String> missing) {
    }

    private final CiliumNodeMap map;

    private CiliumNodeIds(CiliumNodeMap map) {
        this.map = map;
    }

    /** Opens Cilium's pinned node map read-only; the error says what to check. */
    static CiliumNodeIds open(Path pin) throws BpfException {
        return new CiliumNodeIds(CiliumNodeMap.open(pin));
    }

    Translation translate(ClusterSnapshot c, String self) throws BpfException {
        List<NodeInfo> nodes = new ArrayList<>();
        List<String> missing = new ArrayList<>();
        for (NodeInfo n : c.nodes()) {
            if (n.name().equals(self)) {
                nodes.add(new NodeInfo(n.name(), 0, n.internalIp()));
                continue;
            }
            Optional<Integer> id = ipv4(n.internalIp()).isPresent() ? map.nodeId(ipv4(n.internalIp()).get()) : Optional.empty();
            if (id.isPresent()) {
                nodes.add(new NodeInfo(n.name(), id.get(), n.internalIp()));
            } else {
                missing.add(n.name() + " (" + n.internalIp() + ")");
            }
        }
        // Endpoints of a node without an id stay: policy still sees them (check explains why their pairs wait);
        // the node's absence keeps their pairs out of the required set and the datapath, never keyed as node 0.
        return new Translation(new ClusterSnapshot(nodes, c.endpoints(), c.policies(), c.identities()), List.copyOf(missing));
    }

    private static Optional<Inet4Address> ipv4(String ip) {
        try {
            return InetAddress.getByName(ip) instanceof Inet4Address a ? Optional.of(a) : Optional.empty();
        } catch (UnknownHostException e) {
            return Optional.empty();
        }
    }

    String location() {
        return map.location();
    }

    @Override
    public void close() {
        map.close();
    }
}
