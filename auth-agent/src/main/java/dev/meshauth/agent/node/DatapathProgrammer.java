package dev.meshauth.agent.node;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.datapath.Direction;
import dev.meshauth.bpf.datapath.EndpointPolicy;
import dev.meshauth.bpf.datapath.IpPrefix;
import dev.meshauth.bpf.datapath.IpcacheEntry;
import dev.meshauth.bpf.datapath.PolicyKey;
import dev.meshauth.bpf.datapath.PolicyMode;
import dev.meshauth.bpf.datapath.PolicyVerdict;
import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.endpoint.NodeInfo;
import dev.meshauth.policy.eval.EntryKey;
import dev.meshauth.policy.eval.EntryValue;
import dev.meshauth.policy.eval.PolicyEngine;

import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Glue from policy evaluation to the standalone datapath: the ipcache (every endpoint's IPv4 and IPv6
 * address to its identity and node id, 0 for this node), how this node's identities are judged each way,
 * and their policy entries, both directions. Applies the difference to what the maps hold, make before
 * break, so that at every step a packet gets either the old verdict or the new one, never a drop neither
 * gives: new and changed ipcache and policy entries first, then endpoint policies switched on or changed
 * (their allow entries exist by then), then switched off, then stale policy and ipcache entries removed.
 * A direction is default-deny if a policy selects the identity with default deny there; it has a
 * default-allow policy if it only has entries ({@code enableDefaultDeny: false}).
 */
final class DatapathProgrammer {
    private DatapathProgrammer() {
    }

    static void apply(DatapathTables dp, List<NodeInfo> nodes, List<Endpoint> endpoints, PolicyEngine engine, NodeInfo self,
            Set<Long> localIdentities) throws BpfException {
        Map<IpPrefix, IpcacheEntry> ipcache = ipcache(nodes, endpoints, self);
        Map<Long, EndpointPolicy> modes = new HashMap<>();
        for (long id : localIdentities) {
            EndpointPolicy p = new EndpointPolicy(mode(engine, id, dev.meshauth.policy.model.Direction.INGRESS),
                    mode(engine, id, dev.meshauth.policy.model.Direction.EGRESS));
            if (!p.equals(EndpointPolicy.NONE)) {
                modes.put(id, p);
            }
        }
        Map<PolicyKey, PolicyVerdict> policy = policy(engine, localIdentities);

        Map<IpPrefix, IpcacheEntry> oldIpcache = dp.ipcache();
        Map<PolicyKey, PolicyVerdict> oldPolicy = dp.policy();
        Map<Long, EndpointPolicy> oldModes = dp.endpointPolicies();
        for (var e : ipcache.entrySet()) { // make
            if (!e.getValue().equals(oldIpcache.get(e.getKey()))) {
                dp.putIpcache(e.getKey(), e.getValue());
            }
        }
        for (var e : policy.entrySet()) {
            if (!e.getValue().equals(oldPolicy.get(e.getKey()))) {
                dp.putPolicy(e.getKey(), e.getValue());
            }
        }
        for (var e : modes.entrySet()) {
            if (!e.getValue().equals(oldModes.get(e.getKey()))) {
                dp.setEndpointPolicy(e.getKey(), e.getValue());
            }
        }
        for (long id : oldModes.keySet()) { // break
            if (!modes.containsKey(id)) {
                dp.setEndpointPolicy(id, EndpointPolicy.NONE);
            }
        }
        for (PolicyKey old : oldPolicy.keySet()) {
            if (!policy.containsKey(old)) {
                dp.removePolicy(old);
            }
        }
        for (IpPrefix old : oldIpcache.keySet()) {
            if (!ipcache.containsKey(old)) {
                dp.removeIpcache(old);
            }
        }
    }

    private static PolicyMode mode(PolicyEngine engine, long id, dev.meshauth.policy.model.Direction dir) {
        if (engine.enforced(dir).contains(id)) {
            return PolicyMode.DEFAULT_DENY;
        }
        return engine.hasEntries(id, dir) ? PolicyMode.DEFAULT_ALLOW : PolicyMode.NONE;
    }

    private static Map<IpPrefix, IpcacheEntry> ipcache(List<NodeInfo> nodes, List<Endpoint> endpoints, NodeInfo self) {
        Map<String, Integer> nodeIds = NodeInfo.idsByName(nodes);
        Map<IpPrefix, IpcacheEntry> out = new HashMap<>();
        for (Endpoint e : endpoints) {
            // an endpoint of a node without an id is left out (world), never taken for local (0)
            NodeInfo.remoteNodeId(self.name(), e.node(), nodeIds).ifPresent(node -> {
                for (String address : e.addresses()) {
                    out.put(IpPrefix.host(address), new IpcacheEntry(e.identity(), node));
                }
            });
        }
        return out;
    }

    /** The policy map entries this node needs: those of its own identities, both directions. */
    static Map<PolicyKey, PolicyVerdict> policy(PolicyEngine engine, Set<Long> localIdentities) {
        Map<PolicyKey, PolicyVerdict> out = new HashMap<>();
        for (Map.Entry<EntryKey, EntryValue> e : engine.entries().entrySet()) {
            EntryKey k = e.getKey();
            if (!localIdentities.contains(k.local())) {
                continue;
            }
            EntryValue v = e.getValue();
            Direction dir = k.direction() == dev.meshauth.policy.model.Direction.INGRESS ? Direction.INGRESS : Direction.EGRESS;
            out.put(new PolicyKey(k.local(), k.remote(), k.protocol(), k.port(), k.prefixLen(), dir),
                    v.deny() ? PolicyVerdict.DENY : new PolicyVerdict(false, new AuthType(v.authType().code())));
        }
        return out;
    }
}
