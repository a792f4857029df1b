package dev.meshauth.agent.node;

import dev.meshauth.agent.node.source.ClusterSnapshot;
import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.policy.PolicyException;
import dev.meshauth.policy.endpoint.NodeInfo;
import dev.meshauth.policy.eval.AuthRequirement;
import dev.meshauth.policy.eval.EvaluationOverrun;
import dev.meshauth.policy.eval.PolicyEngine;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.HashSet;
import java.util.List;
import java.util.Optional;
import java.util.Set;

/**
 * What one node needs from a cluster view: its own node, the policy evaluation, the pairs it must hold
 * and the identities it runs. Pure but for reading Cilium's node map when keys take Cilium's node ids.
 *
 * @param nodeName          this agent's node
 * @param ciliumIds         Cilium's node ids, when feeding Cilium's datapath
 * @param where             the source, for errors
 * @param policyMapCapacity the standalone datapath's policy map size, if it is fed: a view that needs more is refused
 * @param budget            how long one evaluation may take, and the ticker that measures it
 */
record Needs(String nodeName, Optional<CiliumNodeIds> ciliumIds, String where, Optional<Integer> policyMapCapacity,
        EvaluationBudget budget) implements ClusterView.Derivation {
    private static final Logger LOG = LoggerFactory.getLogger(Needs.class);

    /** Without a policy map to fill, with the default budget on the system ticker. */
    Needs(String nodeName, Optional<CiliumNodeIds> ciliumIds, String where) {
        this(nodeName, ciliumIds, where, Optional.empty(), EvaluationBudget.defaults(System::nanoTime));
    }

    @Override
    public ClusterView.State derive(ClusterSnapshot raw) throws PolicyException, BpfException {
        ClusterSnapshot c = raw;
        List<String> unkeyed = List.of();
        if (ciliumIds.isPresent()) {
            CiliumNodeIds.Translation t = ciliumIds.get().translate(raw, nodeName);
            c = t.cluster();
            unkeyed = t.missing();
            if (!unkeyed.isEmpty()) {
                LOG.atWarn().addKeyValue("nodes", unkeyed).addKeyValue("node_map", ciliumIds.get().location())
                        .log("nodes without an id in Cilium's node map yet: their pairs wait");
            }
        }
        List<NodeInfo> known = c.nodes();
        NodeInfo self = known.stream().filter(n -> n.name().equals(nodeName)).findFirst()
                .orElseThrow(() -> new PolicyException(List.of(new PolicyException.Problem(where, 0, 0, "nodes",
                        "this agent's node '" + nodeName + "' (--node-name) is not among the nodes "
                                + known.stream().map(NodeInfo::name).sorted().toList()))));
        Set<Long> local = new HashSet<>();
        c.endpoints().stream().filter(e -> e.node().equals(self.name())).forEach(e -> local.add(e.identity()));
        PolicyEngine engine;
        try {
            // this node's identities only: its datapath and its auth requirements need nothing else
            engine = PolicyEngine.evaluate(c.policies(), c.endpoints(), budget.start(), local::contains);
        } catch (EvaluationOverrun e) {
            throw new PolicyException(List.of(new PolicyException.Problem(where, 0, 0, "policies", e.getMessage())));
        }
        Set<AuthKey> required = new HashSet<>();
        for (AuthRequirement r : engine.requiredAuth(c.endpoints(), c.nodes())) {
            if (r.node().equals(self.name())) {
                required.add(new AuthKey(r.local(), r.remote(), r.remoteNodeId(), new AuthType(r.authType().code())));
            }
        }
        if (policyMapCapacity.isPresent()) {
            int needed = DatapathProgrammer.policy(engine, local).size();
            if (needed > policyMapCapacity.get()) {
                throw new PolicyException(List.of(new PolicyException.Problem(where, 0, 0, "policies", "this node's endpoints"
                        + " need " + needed + " policy map entries, the policy map holds " + policyMapCapacity.get()
                        + ": raise --bpf-policy-map-max or narrow the policies (ports as ranges, fewer peers per rule)")));
            }
        }
        return new ClusterView.State(c, engine, Set.copyOf(required), Set.copyOf(local), self, raw, unkeyed);
    }

    /** True if Cilium's node map now numbers {@code s}'s nodes differently. */
    boolean renumbered(ClusterView.State s) {
        try {
            return ciliumIds.isPresent()
                    && !ciliumIds.get().translate(s.raw(), nodeName).cluster().nodes().equals(s.cluster().nodes());
        } catch (BpfException | RuntimeException e) {
            LOG.atError().addKeyValue("error", e.getMessage()).log("reading Cilium's node map failed");
            return false;
        }
    }
}
