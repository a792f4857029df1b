package dev.meshauth.policy;

import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.eval.PolicyEngine;
import dev.meshauth.policy.eval.PortPrefix;
import dev.meshauth.policy.model.AuthType;
import dev.meshauth.policy.model.Direction;
import dev.meshauth.policy.model.Policy;
import dev.meshauth.policy.model.PortProtocol;
import dev.meshauth.policy.model.Protocol;
import dev.meshauth.policy.model.Rule;
import org.junit.jupiter.api.RepeatedTest;
import org.junit.jupiter.api.RepetitionInfo;

import java.util.ArrayList;
import java.util.List;
import java.util.Random;

import static dev.meshauth.policy.PolicyEngineTest.ALL;
import static dev.meshauth.policy.PolicyEngineTest.DB;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The engine's entries, looked up first-hit as the datapath does, against a reference written from the
 * rules directly (no entries, no propagation): a packet is denied if any matching rule denies; otherwise
 * the most specific match decides (specific peer over any peer, then protocol, then the longest port
 * prefix), taking a higher explicit auth type from any other matching rule if its own is not explicit.
 */
class LookupReferenceTest {
    private static final String[] PEERS = {"fromEndpoints: [{matchLabels: {app: web}}]",
            "fromEndpoints: [{matchLabels: {app: job}}]", "fromEndpoints: [{}]", "fromEntities: [world]", ""};
    private static final String[] PORTS = {"", "{port: \"80\", protocol: TCP}", "{port: \"80\", endPort: 83, protocol: TCP}",
            "{port: \"1\", endPort: 1023, protocol: TCP}", "{port: \"53\", protocol: ANY}", "{port: \"53\", protocol: UDP}",
            "{port: \"0\", protocol: TCP}", "{port: \"81\", endPort: 90, protocol: ANY}", "icmp"};
    private static final String[] MODES = {"", "", "disabled", "required", "test-always-fail"};
    private static final int[][] PACKETS = {{6, 22}, {6, 53}, {6, 79}, {6, 80}, {6, 81}, {6, 83}, {6, 84}, {6, 90},
            {6, 91}, {6, 1023}, {6, 1024}, {17, 53}, {17, 80}, {17, 85}, {132, 53}, {132, 85}, {1, 8}, {1, 0}, {253, 0}};

    private static String rule(Random r, boolean deny) {
        StringBuilder sb = new StringBuilder("- ");
        String peer = PEERS[r.nextInt(PEERS.length)];
        String ports = PORTS[r.nextInt(PORTS.length)];
        if (peer.isEmpty() && ports.isEmpty()) {
            ports = PORTS[1];
        }
        List<String> fields = new ArrayList<>();
        if (!peer.isEmpty()) {
            fields.add(peer);
        }
        if (ports.equals("icmp")) {
            fields.add("icmps: [{fields: [{type: 8}]}]");
        } else if (!ports.isEmpty()) {
            fields.add("toPorts: [{ports: [" + ports + "]}]");
        }
        String mode = MODES[r.nextInt(MODES.length)];
        if (!deny && !mode.isEmpty()) {
            fields.add("authentication: {mode: " + mode + "}");
        }
        sb.append(String.join("\n  ", fields)).append('\n');
        return sb.toString();
    }

    private static List<Policy> randomPolicies(Random r) throws PolicyException {
        List<Policy> out = new ArrayList<>();
        int n = 1 + r.nextInt(3);
        for (int i = 0; i < n; i++) {
            StringBuilder spec = new StringBuilder("endpointSelector: {matchLabels: {app: db}}\n");
            for (String section : new String[] {"ingress", "ingressDeny"}) {
                int rules = section.equals("ingress") ? 1 + r.nextInt(3) : r.nextInt(2);
                if (rules == 0) {
                    continue;
                }
                spec.append(section).append(":\n");
                for (int j = 0; j < rules; j++) {
                    spec.append(rule(r, section.endsWith("Deny")));
                }
            }
            out.addAll(PolicyEngineTest.policies(PolicyEngineTest.cnp("prod", spec.toString())
                    .replace("name: p,", "name: p" + i + ",")));
        }
        return out;
    }

    /** One rule's match for a packet: how specific, and its value. */
    private record Match(int remote, int proto, int len, boolean deny, AuthType type, boolean explicit) {
        int rank() {
            return remote * 1000 + proto * 100 + len;
        }
    }

    private static String reference(List<Policy> policies, PolicyEngine e, Endpoint from, int proto, int port) {
        List<Match> matches = new ArrayList<>();
        for (Policy p : policies) {
            if (!p.subject().matches(DB.labels())) {
                continue;
            }
            for (Rule rule : p.rules()) {
                if (rule.direction() != Direction.INGRESS || rule.matchesNothing()) {
                    continue;
                }
                int remote;
                if (rule.peers().any()) {
                    remote = 0;
                } else if (rule.peers().endpoints().stream().anyMatch(s -> s.matches(from.labels()))) {
                    remote = 1;
                } else {
                    continue;
                }
                for (PortProtocol pp : rule.ports().isEmpty() ? List.of(PortProtocol.ANY) : rule.ports()) {
                    int len = -1;
                    int protoRank = 1;
                    if (pp.protocol() == Protocol.ANY && pp.port() == 0) {
                        len = 0;
                        protoRank = 0;
                    } else {
                        List<Protocol> protos = pp.protocol() == Protocol.ANY ? Protocol.ANY_WITH_PORTS : List.of(pp.protocol());
                        if (protos.stream().anyMatch(x -> x.number() == proto)) {
                            if (pp.port() == 0) {
                                len = 0;
                            } else if (port >= pp.port() && port <= pp.endPort()) {
                                len = PortPrefix.of(pp.port(), pp.endPort()).stream().filter(x ->
                                        (port & PortPrefix.mask(x.length())) == x.port()).findFirst().orElseThrow().length();
                            }
                        }
                    }
                    if (len >= 0) {
                        matches.add(new Match(remote, protoRank, len, rule.deny(), rule.authType(), rule.auth().isPresent()));
                    }
                }
            }
        }
        if (matches.isEmpty()) {
            return e.enforced(Direction.INGRESS).contains(DB.identity()) ? "deny" : "open";
        }
        if (matches.stream().anyMatch(Match::deny)) {
            return "deny";
        }
        int best = matches.stream().mapToInt(Match::rank).max().orElseThrow();
        List<Match> chosen = matches.stream().filter(m -> m.rank() == best).toList();
        boolean explicit = chosen.stream().anyMatch(Match::explicit);
        AuthType type = chosen.stream().filter(m -> m.explicit() == explicit).map(Match::type).reduce(AuthType.DISABLED,
                AuthType::max);
        if (!explicit) {
            type = matches.stream().filter(Match::explicit).map(Match::type).reduce(type, AuthType::max);
        }
        return type == AuthType.DISABLED ? "allow" : "auth:" + type;
    }

    @RepeatedTest(400)
    void firstHitLookupOfTheEntriesAgreesWithTheRules(RepetitionInfo rep) throws Exception {
        Random r = new Random(rep.getCurrentRepetition());
        List<Policy> policies = randomPolicies(r);
        PolicyEngine e = PolicyEngine.evaluate(policies, ALL);
        for (Endpoint from : ALL) {
            for (int[] packet : PACKETS) {
                assertThat(PolicyEngineTest.verdict(e, DB, from, packet[1], packet[0]))
                        .as("seed %d, from %s/%s, proto %d port %d, policies:%n%s", rep.getCurrentRepetition(),
                                from.namespace(), from.name(), packet[0], packet[1], policies)
                        .isEqualTo(reference(policies, e, from, packet[0], packet[1]));
            }
        }
    }
}
