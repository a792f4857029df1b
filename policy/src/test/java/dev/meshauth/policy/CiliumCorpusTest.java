package dev.meshauth.policy;

import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.endpoint.NodeInfo;
import dev.meshauth.policy.eval.AuthRequirement;
import dev.meshauth.policy.eval.PolicyEngine;
import dev.meshauth.policy.eval.Verdict;
import dev.meshauth.policy.model.AuthType;
import dev.meshauth.policy.model.Direction;
import dev.meshauth.policy.yaml.PolicyParser;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.InputStream;
import java.nio.charset.StandardCharsets;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Policies as real clusters have them (Cilium's documented examples of fromEntities/toEntities,
 * toCIDR/toCIDRSet, toFQDNs, toServices, L7 rules, enableDefaultDeny and host policies, under
 * {@code src/test/resources/corpus/}) are accepted whole: each yields exactly the auth pairs of its
 * authenticated rules, and reports per rule, with file:line, what meshauth does not enforce.
 */
class CiliumCorpusTest {
    static final NodeInfo N1 = new NodeInfo("node-1", 1, "127.0.0.1");
    static final NodeInfo N2 = new NodeInfo("node-2", 2, "127.0.0.2");
    static final Endpoint WEB = ep("web", "prod", 1001, "node-1", "app", "web");
    static final Endpoint FRONTEND = ep("frontend", "prod", 1002, "node-2", "app", "frontend");
    static final Endpoint API = ep("api", "prod", 1003, "node-1", "app", "api");
    static final Endpoint KUBE_DNS = ep("coredns", "kube-system", 1004, "node-2", "k8s-app", "kube-dns");
    static final Endpoint DB = ep("db", "prod", 1005, "node-2", "app", "db");
    static final Endpoint DEATHSTAR = ep("deathstar", "default", 1006, "node-1", "org", "empire", "class", "deathstar");
    static final Endpoint TIEFIGHTER = ep("tiefighter", "default", 1007, "node-2", "org", "empire", "class", "tiefighter");
    static final Endpoint XWING = ep("xwing", "default", 1008, "node-2", "org", "alliance", "class", "xwing");
    static final List<Endpoint> ALL = List.of(WEB, FRONTEND, API, KUBE_DNS, DB, DEATHSTAR, TIEFIGHTER, XWING);

    static Endpoint ep(String name, String ns, long id, String node, String... kv) {
        Map<String, String> labels = new java.util.HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            labels.put(kv[i], kv[i + 1]);
        }
        labels.put("io.kubernetes.pod.namespace", ns);
        return new Endpoint(name, ns, labels, id, node, "198.18.0." + (id - 1000), Optional.empty());
    }

    record Loaded(PolicyParser.Result result, PolicyEngine engine, Set<AuthRequirement> required) {
    }

    static Loaded load(String file) throws IOException, PolicyException {
        String text;
        try (InputStream in = CiliumCorpusTest.class.getResourceAsStream("/corpus/" + file)) {
            text = new String(in.readAllBytes(), StandardCharsets.UTF_8);
        }
        PolicyParser.Result r = PolicyParser.parse(file, text);
        PolicyEngine e = PolicyEngine.evaluate(r.policies(), ALL);
        return new Loaded(r, e, e.requiredAuth(ALL, List.of(N1, N2)));
    }

    static AuthRequirement spire(Endpoint local, Endpoint remote) {
        int node = local.node().equals(remote.node()) ? 0 : remote.node().equals("node-1") ? 1 : 2;
        return new AuthRequirement(local.node(), local.identity(), remote.identity(), node, AuthType.SPIRE);
    }

    @Test
    void entitiesKeepTheEndpointRulesAuthenticationAndSkipReservedIdentities() throws Exception {
        Loaded l = load("entities.yaml");
        Set<AuthRequirement> expected = new HashSet<>(Set.of(spire(WEB, FRONTEND)));
        for (Endpoint e : ALL) {
            if (e != API) {
                expected.add(spire(API, e)); // fromEntities: [cluster] is every endpoint, in every namespace
            }
        }
        assertThat(l.required()).as("no pair with a reserved identity (host, world, ...) is ever required")
                .containsExactlyInAnyOrderElementsOf(expected);
        assertThat(l.result().warnings()).isEmpty();
        // world is allowed to web:443 by one rule and denied by the clusterwide lockdown: the deny wins.
        assertThat(l.engine().verdict(WEB.identity(), 2, 443, 6, Direction.INGRESS)).isInstanceOf(Verdict.Denied.class);
        // The lockdown's fromEntities: [all] admits a cluster peer on any port without authentication.
        assertThat(l.engine().verdict(WEB.identity(), XWING.identity(), 80, 6, Direction.INGRESS))
                .isInstanceOf(Verdict.Allowed.class);
        // The host is in "cluster": the datapath demands authentication, which Cilium never performs for it.
        assertThat(l.engine().verdict(API.identity(), 1, 80, 6, Direction.INGRESS))
                .isInstanceOfSatisfying(Verdict.AuthRequired.class, a -> assertThat(a.remoteIdentity()).isEqualTo(1));
        assertThat(l.engine().verdict(API.identity(), 7, 6443, 6, Direction.EGRESS)).isInstanceOf(Verdict.Allowed.class);
    }

    @Test
    void cidrRulesAreReportedAndTheAuthenticatedRuleStands() throws Exception {
        Loaded l = load("cidr.yaml");
        assertThat(l.required()).containsExactly(spire(FRONTEND, WEB));
        assertThat(l.result().warnings()).containsExactly(
                "cidr.yaml:11: spec.egress[0].toCIDR: CIDR peers have no identity in meshauth; the rule's other peers and"
                        + " its authentication stand",
                "cidr.yaml:12: spec.egress[1].toCIDRSet: CIDR peers have no identity in meshauth; the rule's other peers"
                        + " and its authentication stand");
        // A CIDR-only rule admits no endpoint: it never widens to "any peer".
        assertThat(l.engine().verdict(FRONTEND.identity(), XWING.identity(), 80, 6, Direction.EGRESS))
                .isInstanceOf(Verdict.Denied.class);
    }

    @Test
    void fqdnServicesAndDnsRulesAreReportedAndTheAuthenticatedRuleStands() throws Exception {
        Loaded l = load("fqdn-services.yaml");
        assertThat(l.required()).containsExactly(spire(API, WEB));
        assertThat(l.result().warnings()).hasSize(3).anySatisfy(w -> assertThat(w).startsWith(
                "fqdn-services.yaml:17: spec.egress[0].toPorts[0].rules: L7 rules are Cilium's proxy"))
                .anySatisfy(w -> assertThat(w).startsWith("fqdn-services.yaml:20: spec.egress[1].toFQDNs: DNS-name peers"))
                .anySatisfy(w -> assertThat(w).startsWith("fqdn-services.yaml:23: spec.egress[2].toServices: service peers"));
        assertThat(l.engine().verdict(API.identity(), KUBE_DNS.identity(), 53, 17, Direction.EGRESS))
                .isInstanceOf(Verdict.Allowed.class);
    }

    @Test
    void anL7RuleKeepsItsPortAndItsAuthentication() throws Exception {
        Loaded l = load("l7.yaml");
        assertThat(l.required()).containsExactly(spire(DEATHSTAR, TIEFIGHTER));
        assertThat(l.result().warnings()).singleElement().asString().startsWith("l7.yaml:21: spec.ingress[0].toPorts[0].rules:");
        assertThat(l.engine().verdict(DEATHSTAR.identity(), XWING.identity(), 80, 6, Direction.INGRESS))
                .isInstanceOf(Verdict.Denied.class);
    }

    @Test
    void enableDefaultDenyFalseRequiresAuthenticationWithoutIsolating() throws Exception {
        Loaded l = load("default-deny.yaml");
        assertThat(l.required()).containsExactly(spire(DB, WEB));
        assertThat(l.engine().verdict(DB.identity(), WEB.identity(), 5432, 6, Direction.INGRESS))
                .isInstanceOf(Verdict.AuthRequired.class);
        assertThat(l.engine().verdict(DB.identity(), XWING.identity(), 5432, 6, Direction.INGRESS))
                .as("not default-deny: traffic no rule matches passes").isInstanceOf(Verdict.Allowed.class);
        assertThat(l.engine().enforced(Direction.INGRESS)).doesNotContain(DB.identity());
        assertThat(l.result().policies()).as("the host policy is skipped, the endpoint policy kept").hasSize(1);
        assertThat(l.result().warnings()).hasSize(2)
                .anySatisfy(w -> assertThat(w).startsWith("default-deny.yaml:28: spec.nodeSelector: a host policy"))
                .anySatisfy(w -> assertThat(w).startsWith("default-deny.yaml:17: spec.ingress[0].toPorts[0].ports[1].port:"
                        + " named port 'postgres'"));
        assertThat(l.engine().verdict(DB.identity(), XWING.identity(), 8, 1, Direction.INGRESS))
                .as("the icmps rule admits echo requests from anyone").isInstanceOfSatisfying(Verdict.Allowed.class,
                        a -> assertThat(a.reasons()).anySatisfy(r -> assertThat(r).contains("ingress[1]")));
    }

    @Test
    void anEmptyRuleSelectsButAdmitsNothing() throws Exception {
        PolicyParser.Result r = PolicyParser.parse("deny-all.yaml", """
                apiVersion: cilium.io/v2
                kind: CiliumNetworkPolicy
                metadata: {name: deny-all-ingress, namespace: prod}
                spec:
                  endpointSelector: {}
                  ingress:
                  - {}
                """);
        PolicyEngine e = PolicyEngine.evaluate(r.policies(), ALL);
        assertThat(e.verdict(WEB.identity(), API.identity(), 80, 6, Direction.INGRESS)).isInstanceOf(Verdict.Denied.class);
        PolicyParser.Result onlyPorts = PolicyParser.parse("l4.yaml", """
                apiVersion: cilium.io/v2
                kind: CiliumNetworkPolicy
                metadata: {name: l4-only, namespace: prod}
                spec:
                  endpointSelector: {}
                  ingress:
                  - toPorts: [{ports: [{port: "80", protocol: TCP}]}]
                """);
        PolicyEngine l4 = PolicyEngine.evaluate(onlyPorts.policies(), ALL);
        assertThat(l4.verdict(WEB.identity(), XWING.identity(), 80, 6, Direction.INGRESS))
                .as("an L4-only rule admits every peer").isInstanceOf(Verdict.Allowed.class);
    }
}
