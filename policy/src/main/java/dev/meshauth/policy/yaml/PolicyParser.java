package dev.meshauth.policy.yaml;

import dev.meshauth.policy.PolicyException;
import dev.meshauth.policy.model.AuthMode;
import dev.meshauth.policy.model.Direction;
import dev.meshauth.policy.model.EndpointSelector;
import dev.meshauth.policy.model.Entity;
import dev.meshauth.policy.model.Peers;
import dev.meshauth.policy.model.Policy;
import dev.meshauth.policy.model.PortProtocol;
import dev.meshauth.policy.model.Protocol;
import dev.meshauth.policy.model.Rule;
import org.yaml.snakeyaml.nodes.Node;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Reads CiliumNetworkPolicy and CiliumClusterwideNetworkPolicy YAML (multi-document) into
 * {@link Policy} values, reporting every problem with file, line, column and field path. Every
 * Cilium-valid object is accepted: what meshauth cannot enforce (CIDR, FQDN, service, node and group
 * peers, L7 and TLS rules, named ports, host policies) is kept out of the evaluation and reported
 * on the rule it belongs to, with file:line, so the rest of the object (its authentication above all)
 * stands. A rule whose only peers are of those kinds admits no peer meshauth can identify: it never widens
 * to "any peer".
 */
public final class PolicyParser {
    private static final Set<String> TOP = Set.of("apiVersion", "kind", "metadata", "spec", "specs", "status");
    private static final Set<String> METADATA = Set.of("name", "namespace", "labels", "annotations", "uid",
            "resourceVersion", "generation", "creationTimestamp", "managedFields", "finalizers", "ownerReferences", "selfLink",
            "deletionTimestamp", "deletionGracePeriodSeconds", "generateName");
    private static final Set<String> SPEC = Set.of("endpointSelector", "nodeSelector", "ingress", "egress", "ingressDeny",
            "egressDeny", "description", "labels", "enableDefaultDeny");
    private static final Set<String> INGRESS = Set.of("fromEndpoints", "toPorts", "authentication",
            "fromCIDR", "fromCIDRSet", "fromEntities", "fromRequires", "fromGroups", "fromNodes", "icmps");
    private static final Set<String> EGRESS = Set.of("toEndpoints", "toPorts", "authentication",
            "toCIDR", "toCIDRSet", "toEntities", "toRequires", "toGroups", "toNodes", "toFQDNs", "toServices", "icmps");
    /** L3 fields meshauth cannot resolve to identities, and what that means for the standalone datapath. */
    private static final Map<String, String> UNRESOLVED_PEERS = Map.ofEntries(
            Map.entry("fromCIDR", "CIDR peers have no identity in meshauth; their traffic is seen as world (2)"),
            Map.entry("fromCIDRSet", "CIDR peers have no identity in meshauth; their traffic is seen as world (2)"),
            Map.entry("toCIDR", "CIDR peers have no identity in meshauth"),
            Map.entry("toCIDRSet", "CIDR peers have no identity in meshauth"),
            Map.entry("toFQDNs", "DNS-name peers need Cilium's DNS proxy; meshauth does not resolve them"),
            Map.entry("toServices", "service peers are not resolved by meshauth"),
            Map.entry("fromNodes", "node peers are not resolved by meshauth (use fromEntities: [remote-node])"),
            Map.entry("toNodes", "node peers are not resolved by meshauth (use toEntities: [remote-node])"),
            Map.entry("fromGroups", "cloud-provider groups are not resolved by meshauth"),
            Map.entry("toGroups", "cloud-provider groups are not resolved by meshauth"),
            Map.entry("fromRequires", "requirements that narrow other rules' peers are not applied by meshauth"),
            Map.entry("toRequires", "requirements that narrow other rules' peers are not applied by meshauth"));
    private static final Set<String> ENABLE_DEFAULT_DENY = Set.of("ingress", "egress");
    private static final Set<String> TO_PORTS = Set.of("ports", "rules", "originatingTLS", "terminatingTLS", "serverNames",
            "listener");
    private static final Set<String> PORT = Set.of("port", "endPort", "protocol");
    private static final Set<String> AUTH = Set.of("mode");
    private static final Set<String> ICMP_RULE = Set.of("fields");
    private static final Set<String> ICMP_FIELD = Set.of("type", "family");

    private final YamlReader r;
    private final List<String> warnings = new ArrayList<>();
    private final List<String> hostPolicies = new ArrayList<>();

    private final SelectorParser selectors;

    private PolicyParser(String file) {
        this.r = new YamlReader(file);
        this.selectors = new SelectorParser(r);
    }

    /**
     * Parsed policies and what of them meshauth does not enforce.
     *
     * @param policies the policies, each rule with its own {@link Rule#unenforced()} notes
     * @param warnings every such note, and the host policies (nodeSelector) skipped whole, "file:line: path: what"
     */
    public record Result(List<Policy> policies, List<String> warnings) {
    }

    /**
     * Parses every document of {@code text} from {@code file}.
     *
     * @throws PolicyException listing every problem found
     */
    public static Result parse(String file, String text) throws PolicyException {
        PolicyParser p = new PolicyParser(file);
        List<Policy> out = new ArrayList<>();
        for (Node doc : p.r.documents(text)) {
            p.document(doc, out);
        }
        p.r.throwIfProblems();
        List<String> warnings = new ArrayList<>(p.hostPolicies);
        warnings.addAll(p.warnings);
        return new Result(List.copyOf(out), List.copyOf(warnings));
    }

    private void document(Node doc, List<Policy> out) {
        Map<String, Node> top = r.mapping(doc, "", TOP);
        String apiVersion = top.containsKey("apiVersion") ? r.scalar(top.get("apiVersion"), "apiVersion").orElse("") : "";
        if (!apiVersion.equals("cilium.io/v2")) {
            r.problem(top.getOrDefault("apiVersion", doc), "apiVersion", "must be cilium.io/v2, got '" + apiVersion + "'");
        }
        String kind = top.containsKey("kind") ? r.scalar(top.get("kind"), "kind").orElse("") : "";
        boolean clusterwide = kind.equals("CiliumClusterwideNetworkPolicy");
        if (!clusterwide && !kind.equals("CiliumNetworkPolicy")) {
            String hint = Suggest.closest(kind, List.of("CiliumNetworkPolicy", "CiliumClusterwideNetworkPolicy"))
                    .map(s -> " (did you mean '" + s + "'?)").orElse("");
            r.problem(top.getOrDefault("kind", doc), "kind", "must be CiliumNetworkPolicy or CiliumClusterwideNetworkPolicy,"
                    + " got '" + kind + "'" + hint);
            return;
        }
        Map<String, Node> meta = top.containsKey("metadata") ? r.mapping(top.get("metadata"), "metadata", METADATA) : Map.of();
        String name = meta.containsKey("name") ? r.scalar(meta.get("name"), "metadata.name").orElse("") : "";
        if (name.isEmpty()) {
            r.problem(top.getOrDefault("metadata", doc), "metadata.name", "a policy needs a name");
        }
        String namespace = "";
        if (meta.containsKey("namespace")) {
            namespace = r.scalar(meta.get("namespace"), "metadata.namespace").orElse("");
            if (clusterwide) {
                r.problem(meta.get("namespace"), "metadata.namespace", "a clusterwide policy has no namespace");
            }
        } else if (!clusterwide) {
            namespace = "default";
        }
        List<Node> specs = new ArrayList<>();
        if (top.containsKey("spec")) {
            specs.add(top.get("spec"));
        }
        if (top.containsKey("specs")) {
            specs.addAll(r.sequence(top.get("specs"), "specs"));
        }
        if (specs.isEmpty()) {
            r.problem(doc, "spec", "a policy needs spec or specs");
        }
        String source = r.file() + ":" + (doc.getStartMark().getLine() + 1);
        for (int i = 0; i < specs.size(); i++) {
            String path = top.containsKey("spec") && i == 0 ? "spec" : "specs[" + (top.containsKey("spec") ? i - 1 : i) + "]";
            spec(specs.get(i), path, name, namespace, clusterwide, source).ifPresent(out::add);
        }
    }

    private Optional<Policy> spec(Node node, String path, String name, String namespace, boolean clusterwide,
            String source) {
        Map<String, Node> spec = r.mapping(node, path, SPEC);
        if (spec.containsKey("nodeSelector")) {
            if (spec.containsKey("endpointSelector")) {
                r.problem(spec.get("nodeSelector"), path + ".nodeSelector", "give endpointSelector or nodeSelector, not both");
            } else {
                hostPolicies.add(note(spec.get("nodeSelector"), path + ".nodeSelector", "a host policy (it selects"
                        + " nodes, not endpoints): not enforced by meshauth, and Cilium never authenticates the host"));
            }
            return Optional.empty();
        }
        if (!spec.containsKey("endpointSelector")) {
            r.problem(node, path + ".endpointSelector", "required: which endpoints the policy applies to");
            return Optional.empty();
        }
        EndpointSelector subject = selectors.parse(spec.get("endpointSelector"), path + ".endpointSelector");
        if (!clusterwide && !subject.constrainsNamespace()) {
            subject = subject.inNamespace(namespace);
        }
        List<Rule> rules = new ArrayList<>();
        rules(spec, "ingress", path, Direction.INGRESS, false, namespace, clusterwide, rules);
        rules(spec, "egress", path, Direction.EGRESS, false, namespace, clusterwide, rules);
        rules(spec, "ingressDeny", path, Direction.INGRESS, true, namespace, clusterwide, rules);
        rules(spec, "egressDeny", path, Direction.EGRESS, true, namespace, clusterwide, rules);
        // Cilium: default-deny for each direction that has rules, unless enableDefaultDeny says otherwise.
        boolean denyIngress = spec.containsKey("ingress") || spec.containsKey("ingressDeny");
        boolean denyEgress = spec.containsKey("egress") || spec.containsKey("egressDeny");
        if (spec.containsKey("enableDefaultDeny")) {
            String p = path + ".enableDefaultDeny";
            Map<String, Node> dd = r.mapping(spec.get("enableDefaultDeny"), p, ENABLE_DEFAULT_DENY);
            denyIngress = dd.containsKey("ingress") ? bool(dd.get("ingress"), p + ".ingress").orElse(denyIngress) : denyIngress;
            denyEgress = dd.containsKey("egress") ? bool(dd.get("egress"), p + ".egress").orElse(denyEgress) : denyEgress;
        }
        return Optional.of(new Policy(name, clusterwide ? "" : namespace, clusterwide, subject, rules, source, denyIngress,
                denyEgress));
    }

    private Optional<Boolean> bool(Node node, String path) {
        Optional<String> v = r.scalar(node, path);
        if (v.isPresent() && (v.get().equals("true") || v.get().equals("false"))) {
            return Optional.of(Boolean.parseBoolean(v.get()));
        }
        v.ifPresent(x -> r.problem(node, path, "must be true or false, got '" + x + "'"));
        return Optional.empty();
    }

    /** A "file:line: path: message" note about what meshauth does not enforce. */
    private String note(Node at, String path, String message) {
        return r.file() + ":" + r.keyLine(at) + ": " + path + ": " + message;
    }

    private void rules(Map<String, Node> spec, String key, String path, Direction dir, boolean deny, String namespace,
            boolean clusterwide, List<Rule> out) {
        if (!spec.containsKey(key)) {
            return;
        }
        List<Node> items = r.sequence(spec.get(key), path + "." + key);
        Set<String> allowed = new HashSet<>(dir == Direction.INGRESS ? INGRESS : EGRESS);
        if (deny) {
            allowed.remove("authentication"); // deny rules never require authentication
        }
        for (int i = 0; i < items.size(); i++) {
            String p = path + "." + key + "[" + i + "]";
            Map<String, Node> rule = r.mapping(items.get(i), p, allowed);
            List<String> unenforced = new ArrayList<>();
            String peerKey = dir == Direction.INGRESS ? "fromEndpoints" : "toEndpoints";
            String entityKey = dir == Direction.INGRESS ? "fromEntities" : "toEntities";
            boolean hasL3 = false;
            List<EndpointSelector> peers = new ArrayList<>();
            if (rule.containsKey(peerKey)) {
                hasL3 = true;
                List<Node> sels = r.sequence(rule.get(peerKey), p + "." + peerKey);
                for (int j = 0; j < sels.size(); j++) {
                    EndpointSelector s = selectors.parse(sels.get(j), p + "." + peerKey + "[" + j + "]");
                    peers.add(!clusterwide && !s.constrainsNamespace() ? s.inNamespace(namespace) : s);
                }
                if (sels.isEmpty()) {
                    r.problem(rule.get(peerKey), p + "." + peerKey, "an empty list selects nothing; use [{}] for every endpoint");
                }
            }
            Set<Entity> entities = EnumSet.noneOf(Entity.class);
            if (rule.containsKey(entityKey)) {
                hasL3 = true;
                entities(rule.get(entityKey), p + "." + entityKey, entities);
            }
            for (var e : UNRESOLVED_PEERS.entrySet()) {
                if (rule.containsKey(e.getKey())) {
                    hasL3 = true;
                    unenforced.add(note(rule.get(e.getKey()), p + "." + e.getKey(), e.getValue()
                            + "; the rule's other peers and its authentication stand"));
                }
            }
            List<PortProtocol> ports = new ArrayList<>();
            boolean portsResolved = true;
            if (rule.containsKey("toPorts") && rule.containsKey("icmps")) {
                r.problem(rule.get("icmps"), p + ".icmps", "icmps may only be given without toPorts (as in Cilium):"
                        + " write a separate rule for the ports");
            } else if (rule.containsKey("toPorts")) {
                portsResolved = toPorts(rule.get("toPorts"), p + ".toPorts", ports, unenforced);
            } else if (rule.containsKey("icmps")) {
                icmps(rule.get("icmps"), p + ".icmps", ports);
                portsResolved = !ports.isEmpty();
            }
            Optional<AuthMode> auth = Optional.empty();
            if (rule.containsKey("authentication")) {
                auth = authentication(rule.get("authentication"), p + ".authentication");
            }
            boolean all = entities.remove(Entity.ALL);
            entities.remove(Entity.NONE);
            // No L3 field: an L4-only rule admits every peer; an empty rule ({}) admits none (Cilium).
            boolean l4Only = !hasL3 && (rule.containsKey("toPorts") || rule.containsKey("icmps"));
            Peers who = all || l4Only ? Peers.ANY : new Peers(false, peers, entities);
            out.add(new Rule(dir, deny, who, ports, portsResolved, auth, i, unenforced));
            warnings.addAll(unenforced);
        }
    }

    private void entities(Node node, String path, Set<Entity> out) {
        for (Node n : r.sequence(node, path)) {
            Optional<String> s = r.scalar(n, path);
            if (s.isEmpty()) {
                continue;
            }
            Optional<Entity> e = Entity.parse(s.get());
            if (e.isPresent()) {
                out.add(e.get());
            } else {
                String hint = Suggest.closest(s.get(), Entity.names()).map(x -> " (did you mean '" + x + "'?)").orElse("");
                r.problem(n, path, "unknown entity '" + s.get() + "': must be one of " + String.join(", ", Entity.names())
                        + hint);
            }
        }
    }

    /** Flattens toPorts into {@code out}; false if ports were named but none can be enforced. */
    private boolean toPorts(Node node, String path, List<PortProtocol> out, List<String> unenforced) {
        List<Node> items = r.sequence(node, path);
        boolean skipped = false;
        for (int i = 0; i < items.size(); i++) {
            String p = path + "[" + i + "]";
            Map<String, Node> tp = r.mapping(items.get(i), p, TO_PORTS);
            for (String k : List.of("originatingTLS", "terminatingTLS", "serverNames", "listener")) {
                if (tp.containsKey(k)) {
                    unenforced.add(note(tp.get(k), p + "." + k, "TLS interception and Envoy listeners are Cilium's"
                            + " proxy; meshauth enforces the port and the authentication only"));
                }
            }
            if (tp.containsKey("rules")) {
                unenforced.add(note(tp.get("rules"), p + ".rules", "L7 rules are Cilium's proxy; meshauth enforces the"
                        + " port and the authentication, not the L7 rules"));
            }
            if (!tp.containsKey("ports")) {
                out.add(PortProtocol.ANY);
                continue;
            }
            List<Node> ports = r.sequence(tp.get("ports"), p + ".ports");
            for (int j = 0; j < ports.size(); j++) {
                Optional<PortProtocol> pp = port(ports.get(j), p + ".ports[" + j + "]", unenforced);
                pp.ifPresent(out::add);
                skipped |= pp.isEmpty();
            }
        }
        return !skipped || !out.isEmpty();
    }

    private Optional<PortProtocol> port(Node node, String path, List<String> unenforced) {
        Map<String, Node> m = r.mapping(node, path, PORT);
        int port = 0;
        if (m.containsKey("port")) {
            Optional<String> s = r.scalar(m.get("port"), path + ".port");
            if (s.isEmpty()) {
                return Optional.empty();
            }
            if (!s.get().matches("[0-9]+")) {
                if (s.get().matches("[a-z0-9]([-a-z0-9]*[a-z0-9])?") && s.get().length() <= 15) {
                    unenforced.add(note(m.get("port"), path + ".port", "named port '" + s.get() + "' is not resolved by"
                            + " meshauth (it needs the pods' container ports): this port is not enforced"));
                } else {
                    r.problem(m.get("port"), path + ".port", "must be a number 0..65535 or a port name (IANA_SVC_NAME),"
                            + " got '" + s.get() + "'");
                }
                return Optional.empty();
            }
            Optional<Long> v = r.integer(m.get("port"), path + ".port", 0, 65535);
            if (v.isEmpty()) {
                return Optional.empty();
            }
            port = v.get().intValue();
        }
        int end = port;
        if (m.containsKey("endPort")) {
            Optional<Long> v = r.integer(m.get("endPort"), path + ".endPort", 1, 65535);
            if (v.isEmpty()) {
                return Optional.empty();
            }
            end = v.get().intValue();
            if (end < port || port == 0) {
                r.problem(m.get("endPort"), path + ".endPort", "must be at least port (" + port + ") and port must be set");
                return Optional.empty();
            }
        }
        Protocol proto = Protocol.ANY;
        if (m.containsKey("protocol")) {
            String s = r.scalar(m.get("protocol"), path + ".protocol").orElse("ANY");
            proto = switch (s) {
                case "TCP" -> Protocol.TCP;
                case "UDP" -> Protocol.UDP;
                case "SCTP" -> Protocol.SCTP;
                case "ANY" -> Protocol.ANY;
                default -> null;
            };
            if (proto == null) {
                String hint = Suggest.closest(s, List.of("TCP", "UDP", "SCTP", "ANY")).map(x -> " (did you mean '" + x + "'?)")
                        .orElse("");
                r.problem(m.get("protocol"), path + ".protocol", "must be TCP, UDP, SCTP or ANY, got '" + s + "'" + hint);
                return Optional.empty();
            }
        }
        return Optional.of(new PortProtocol(port, end, proto));
    }

    /** Cilium's icmps: {@code [{fields: [{type: 8|EchoRequest, family: IPv4|IPv6}]}]}, the family IPv4 by default. */
    private void icmps(Node node, String path, List<PortProtocol> out) {
        List<Node> items = r.sequence(node, path);
        for (int i = 0; i < items.size(); i++) {
            String p = path + "[" + i + "]";
            Map<String, Node> rule = r.mapping(items.get(i), p, ICMP_RULE);
            if (!rule.containsKey("fields")) {
                r.problem(items.get(i), p + ".fields", "required");
                continue;
            }
            List<Node> fields = r.sequence(rule.get("fields"), p + ".fields");
            for (int j = 0; j < fields.size(); j++) {
                String fp = p + ".fields[" + j + "]";
                Map<String, Node> f = r.mapping(fields.get(j), fp, ICMP_FIELD);
                Protocol family = Protocol.ICMP;
                if (f.containsKey("family")) {
                    String fam = r.scalar(f.get("family"), fp + ".family").orElse("");
                    if (fam.equals("IPv6")) {
                        family = Protocol.ICMPV6;
                    } else if (!fam.equals("IPv4")) {
                        r.problem(f.get("family"), fp + ".family", "must be IPv4 or IPv6, got '" + fam + "'");
                        continue;
                    }
                }
                if (!f.containsKey("type")) {
                    r.problem(fields.get(j), fp + ".type", "required");
                    continue;
                }
                IcmpTypes.parse(r, f.get("type"), fp + ".type", family).ifPresent(t -> out.add(PortProtocol.icmp(
                        t.family(), t.type())));
            }
        }
    }

    private Optional<AuthMode> authentication(Node node, String path) {
        Map<String, Node> m = r.mapping(node, path, AUTH);
        if (!m.containsKey("mode")) {
            r.problem(node, path + ".mode", "required");
            return Optional.empty();
        }
        String s = r.scalar(m.get("mode"), path + ".mode").orElse("");
        Optional<AuthMode> mode = AuthMode.parse(s);
        if (mode.isEmpty()) {
            String hint = Suggest.closest(s, List.of("disabled", "required", "test-always-fail"))
                    .map(x -> " (did you mean '" + x + "'?)").orElse("");
            r.problem(m.get("mode"), path + ".mode", "must be disabled, required or test-always-fail, got '" + s + "'" + hint);
        }
        return mode;
    }
}
