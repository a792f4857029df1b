package dev.meshauth.agent.node;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.datapath.Direction;
import dev.meshauth.bpf.datapath.IngressPolicy;
import dev.meshauth.bpf.datapath.IpcacheEntry;
import dev.meshauth.bpf.datapath.Ipv4Prefix;
import dev.meshauth.bpf.datapath.PolicyKey;
import dev.meshauth.bpf.datapath.PolicyVerdict;
import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.endpoint.NodeInfo;
import dev.meshauth.policy.eval.EntryKey;
import dev.meshauth.policy.eval.EntryValue;
import dev.meshauth.policy.eval.PolicyEngine;

import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * Glue from policy evaluation to the standalone datapath: the ipcache (every endpoint's address to its
 * identity and node id, 0 for this node), the identities whose ingress is enforced here, and the policy
 * entries of this node's identities. Applies the difference to what the maps hold, make before break,
 * so that at every step a packet gets either the old verdict or the new one, never a drop neither gives:
 * new and changed ipcache and policy entries first, then ingress policy switched on or changed (its allow
 * entries exist by then), then switched off, then stale policy and ipcache entries removed. An identity
 * is default-deny if a policy selects it with default deny; it has a default-allow ingress policy if it
 * only has entries ({@code enableDefaultDeny: false}).
 */
final class DatapathProgrammer {
    private DatapathProgrammer() {
    }

    static void apply(DatapathTables dp, List<NodeInfo> nodes, List<Endpoint> endpoints, PolicyEngine engine, NodeInfo self,
            Set<Long> localIdentities) throws BpfException {
        Map<Ipv4Prefix, IpcacheEntry> ipcache = ipcache(nodes, endpoints, self);
        Map<Long, IngressPolicy> modes = new HashMap<>();
        for (long id : localIdentities) {
            if (engine.enforced(dev.meshauth.policy.model.Direction.INGRESS).contains(id)) {
                modes.put(id, IngressPolicy.DEFAULT_DENY);
            } else if (engine.hasEntries(id, dev.meshauth.policy.model.Direction.INGRESS)) {
                modes.put(id, IngressPolicy.DEFAULT_ALLOW);
            }
        }
        Map<PolicyKey, PolicyVerdict> policy = policy(engine, localIdentities);

        Map<Ipv4Prefix, IpcacheEntry> oldIpcache = dp.ipcache();
        Map<PolicyKey, PolicyVerdict> oldPolicy = dp.policy();
        Map<Long, IngressPolicy> oldModes = dp.ingressPolicies();
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
            if (e.getValue() != oldModes.get(e.getKey())) {
                dp.setIngressPolicy(e.getKey(), e.getValue());
            }
        }
        for (long id : oldModes.keySet()) { // break
            if (!modes.containsKey(id)) {
                dp.setIngressPolicy(id, IngressPolicy.NONE);
            }
        }
        for (PolicyKey old : oldPolicy.keySet()) {
            if (!policy.containsKey(old)) {
                dp.removePolicy(old);
            }
        }
        for (Ipv4Prefix old : oldIpcache.keySet()) {
            if (!ipcache.containsKey(old)) {
                dp.removeIpcache(old);
            }
        }
    }

    private static Map<Ipv4Prefix, IpcacheEntry> ipcache(List<NodeInfo> nodes, List<Endpoint> endpoints, NodeInfo self) {
        Map<String, Integer> nodeIds = NodeInfo.idsByName(nodes);
        Map<Ipv4Prefix, IpcacheEntry> out = new HashMap<>();
        for (Endpoint e : endpoints) {
            // an endpoint of a node without an id is left out (world), never taken for local (0)
            NodeInfo.remoteNodeId(self.name(), e.node(), nodeIds).ifPresent(node ->
                    out.put(Ipv4Prefix.host(e.ipv4()), new IpcacheEntry(e.identity(), node)));
        }
        return out;
    }

    private static Map<PolicyKey, PolicyVerdict> policy(PolicyEngine engine, Set<Long> localIdentities) {
        Map<PolicyKey, PolicyVerdict> out = new HashMap<>();
        for (Map.Entry<EntryKey, EntryValue> e : engine.entries().entrySet()) {
            EntryKey k = e.getKey();
            if (k.direction() != dev.meshauth.policy.model.Direction.INGRESS || !localIdentities.contains(k.local())) {
                continue;
            }
            EntryValue v = e.getValue();
            out.put(new PolicyKey(k.local(), k.remote(), k.port(), k.protocol(), Direction.INGRESS),
                    v.deny() ? PolicyVerdict.DENY : new PolicyVerdict(false, new AuthType(v.authType().code())));
        }
        return out;
    }
}
