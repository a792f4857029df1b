package dev.meshauth.agent.node;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.datapath.Datapath;
import dev.meshauth.bpf.datapath.Direction;
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
 * entries of this node's identities. Applies the difference to what the maps hold, so a reload removes
 * what is gone.
 */
final class DatapathProgrammer {
    private DatapathProgrammer() {
    }

    static void apply(Datapath dp, List<NodeInfo> nodes, List<Endpoint> endpoints, PolicyEngine engine, NodeInfo self,
            Set<Long> localIdentities) throws BpfException {
        Map<String, Integer> nodeIds = new HashMap<>();
        nodes.forEach(n -> nodeIds.put(n.name(), n.id()));
        Map<Ipv4Prefix, IpcacheEntry> ipcache = new HashMap<>();
        for (Endpoint e : endpoints) {
            Integer node = e.node().equals(self.name()) ? Integer.valueOf(0) : nodeIds.get(e.node());
            if (node != null) { // an endpoint of a node without an id is left out (world), never taken for local (0)
                ipcache.put(Ipv4Prefix.host(e.ipv4()), new IpcacheEntry(e.identity(), node));
            }
        }
        for (var old : dp.ipcache().keySet()) {
            if (!ipcache.containsKey(old)) {
                dp.removeIpcache(old);
            }
        }
        for (var e : ipcache.entrySet()) {
            dp.putIpcache(e.getKey(), e.getValue());
        }

        Set<Long> enforced = new HashSet<>(engine.enforced(dev.meshauth.policy.model.Direction.INGRESS));
        enforced.retainAll(localIdentities);
        for (long id : dp.ingressEnforced()) {
            if (!enforced.contains(id)) {
                dp.setIngressEnforced(id, false);
            }
        }
        for (long id : enforced) {
            dp.setIngressEnforced(id, true);
        }

        Map<PolicyKey, PolicyVerdict> policy = new HashMap<>();
        for (Map.Entry<EntryKey, EntryValue> e : engine.entries().entrySet()) {
            EntryKey k = e.getKey();
            if (k.direction() != dev.meshauth.policy.model.Direction.INGRESS || !localIdentities.contains(k.local())) {
                continue;
            }
            EntryValue v = e.getValue();
            policy.put(new PolicyKey(k.local(), k.remote(), k.port(), k.protocol(), Direction.INGRESS),
                    v.deny() ? PolicyVerdict.DENY : new PolicyVerdict(false, new AuthType(v.authType().code())));
        }
        for (PolicyKey old : dp.policy().keySet()) {
            if (!policy.containsKey(old)) {
                dp.removePolicy(old);
            }
        }
        for (var e : policy.entrySet()) {
            dp.putPolicy(e.getKey(), e.getValue());
        }
    }
}
