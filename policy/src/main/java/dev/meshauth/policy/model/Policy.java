package dev.meshauth.policy.model;

import java.util.List;

/**
 * A CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy, with namespace restrictions already applied
 * to its selectors (namespaced policies select and admit endpoints of their own namespace unless a
 * selector names the namespace label).
 *
 * @param name        metadata.name
 * @param namespace   metadata.namespace; empty for clusterwide policies
 * @param clusterwide true for CiliumClusterwideNetworkPolicy
 * @param subject     the endpointSelector (after namespace restriction)
 * @param rules       all rules, ingress and egress, allow and deny
 * @param source      file:line it came from, for explanations
 * @param defaultDenyIngress the subject is default-deny at ingress (Cilium: if the policy has ingress or
 *                    ingressDeny rules, unless {@code enableDefaultDeny.ingress} is false)
 * @param defaultDenyEgress  the same at egress
 */
public record Policy(String name, String namespace, boolean clusterwide, EndpointSelector subject, List<Rule> rules,
        String source, boolean defaultDenyIngress, boolean defaultDenyEgress) {
    /** Copies. */
    public Policy {
        rules = List.copyOf(rules);
    }

    /** What of this policy meshauth does not enforce, rule by rule. */
    public List<String> unenforced() {
        return rules.stream().flatMap(r -> r.unenforced().stream()).toList();
    }

    /** "namespace/name", or "name" for clusterwide. */
    public String id() {
        return clusterwide ? name : namespace + "/" + name;
    }
}
