package dev.meshauth.policy.endpoint;

import dev.meshauth.policy.PolicyException;
import dev.meshauth.policy.model.EndpointSelector;
import dev.meshauth.policy.yaml.YamlReader;
import org.yaml.snakeyaml.nodes.Node;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.regex.Pattern;

/**
 * The standalone endpoints file: nodes and endpoints, used by the agent and the demo where there is no
 * Kubernetes. Every problem is reported with file, line and column.
 */
public final class EndpointsFile {
    private static final Set<String> TOP = Set.of("nodes", "endpoints");
    private static final Set<String> NODE = Set.of("name", "id", "internalIP");
    private static final Set<String> ENDPOINT = Set.of("name", "namespace", "node", "ipv4", "labels", "identity", "interface",
            "netns", "ipv6");
    private static final Pattern IPV4 = Pattern.compile("(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)(\\.(25[0-5]|2[0-4]\\d|1\\d\\d|[1-9]?\\d)){3}");

    /** Nodes and endpoints. */
    public record Contents(List<NodeInfo> nodes, List<Endpoint> endpoints) {
        /** Copies. */
        public Contents {
            nodes = List.copyOf(nodes);
            endpoints = List.copyOf(endpoints);
        }

        /** The node called {@code name}. */
        public Optional<NodeInfo> node(String name) {
            return nodes.stream().filter(n -> n.name().equals(name)).findFirst();
        }

        /** The endpoint called {@code name} (in any namespace). */
        public Optional<Endpoint> endpoint(String name) {
            return endpoints.stream().filter(e -> e.name().equals(name)).findFirst();
        }
    }

    private EndpointsFile() {
    }

    /**
     * Parses {@code text}; endpoints without an identity get one from {@code allocator}.
     *
     * @throws PolicyException listing every problem
     */
    public static Contents parse(String file, String text, IdentityAllocator allocator) throws PolicyException {
        YamlReader r = new YamlReader(file);
        List<Node> docs = r.documents(text);
        if (docs.size() != 1) {
            throw new PolicyException(List.of(new PolicyException.Problem(file, 1, 1, "", "expected one YAML document, found "
                    + docs.size())));
        }
        Map<String, Node> top = r.mapping(docs.getFirst(), "", TOP);
        List<NodeInfo> nodes = new ArrayList<>();
        Set<Integer> nodeIds = new HashSet<>();
        if (top.containsKey("nodes")) {
            List<Node> items = r.sequence(top.get("nodes"), "nodes");
            for (int i = 0; i < items.size(); i++) {
                String p = "nodes[" + i + "]";
                Map<String, Node> n = r.mapping(items.get(i), p, NODE);
                Optional<String> name = req(r, n, "name", items.get(i), p);
                Optional<Long> id = n.containsKey("id") ? r.integer(n.get("id"), p + ".id", 1, 65535) : Optional.empty();
                if (!n.containsKey("id")) {
                    r.problem(items.get(i), p + ".id", "required");
                }
                Optional<String> ip = req(r, n, "internalIP", items.get(i), p);
                ip.filter(a -> !IPV4.matcher(a).matches()).ifPresent(a -> r.problem(n.get("internalIP"), p + ".internalIP",
                        "not an IPv4 address: '" + a + "'"));
                if (name.isPresent() && nodes.stream().anyMatch(x -> x.name().equals(name.get()))) {
                    r.problem(items.get(i), p + ".name", "duplicate node name '" + name.get() + "'");
                }
                if (id.isPresent() && !nodeIds.add(id.get().intValue())) {
                    r.problem(n.get("id"), p + ".id", "duplicate node id " + id.get());
                }
                Optional<NodeInfo> sameIp = ip.flatMap(a -> nodes.stream().filter(x -> x.internalIp().equals(a)).findFirst());
                if (sameIp.isPresent()) {
                    r.problem(n.get("internalIP"), p + ".internalIP", "internalIP " + ip.get() + " is already node '"
                            + sameIp.get().name() + "': peers would reach the wrong agent");
                }
                if (name.isPresent() && id.isPresent() && ip.isPresent()) {
                    nodes.add(new NodeInfo(name.get(), id.get().intValue(), ip.get()));
                }
            }
        }
        List<Endpoint> endpoints = new ArrayList<>();
        Set<String> names = new HashSet<>();
        Map<Long, String> explicitIds = new HashMap<>();
        Map<String, String> addresses = new HashMap<>(); // IPv4 and IPv6 address to the endpoint holding it
        if (top.containsKey("endpoints")) {
            List<Node> items = r.sequence(top.get("endpoints"), "endpoints");
            for (int i = 0; i < items.size(); i++) {
                String p = "endpoints[" + i + "]";
                Map<String, Node> e = r.mapping(items.get(i), p, ENDPOINT);
                Optional<String> name = req(r, e, "name", items.get(i), p);
                String ns = e.containsKey("namespace") ? r.scalar(e.get("namespace"), p + ".namespace").orElse("default") : "default";
                Optional<String> node = req(r, e, "node", items.get(i), p);
                Optional<String> ip = req(r, e, "ipv4", items.get(i), p);
                ip.filter(a -> !IPV4.matcher(a).matches()).ifPresent(a -> r.problem(e.get("ipv4"), p + ".ipv4",
                        "not an IPv4 address: '" + a + "'"));
                Optional<String> ip6 = e.containsKey("ipv6") ? r.scalar(e.get("ipv6"), p + ".ipv6") : Optional.empty();
                ip6.filter(a -> !isIpv6(a)).ifPresent(a -> r.problem(e.get("ipv6"), p + ".ipv6",
                        "not an IPv6 address: '" + a + "'"));
                node.filter(nn -> nodes.stream().noneMatch(x -> x.name().equals(nn))).ifPresent(nn ->
                        r.problem(e.get("node"), p + ".node", "node '" + nn + "' is not declared under nodes"));
                Map<String, String> labels = new LinkedHashMap<>();
                if (e.containsKey("labels")) {
                    labels.putAll(r.stringMap(e.get("labels"), p + ".labels"));
                }
                labels.put(EndpointSelector.NAMESPACE_LABEL, ns);
                Optional<Long> explicit = Optional.empty();
                if (e.containsKey("identity")) {
                    explicit = r.integer(e.get("identity"), p + ".identity", 1, 0xFFFF_FFFFL);
                    explicit.filter(ReservedIdentity::isReserved).ifPresent(v -> r.problem(e.get("identity"), p + ".identity",
                            "identity " + v + " is reserved (below " + ReservedIdentity.MIN_ALLOCATED + ")"));
                    String canon = IdentityAllocator.canonical(labels);
                    explicit.ifPresent(v -> {
                        String prev = explicitIds.putIfAbsent(v, canon);
                        if (prev != null && !prev.equals(canon)) {
                            r.problem(e.get("identity"), p + ".identity", "identity " + v + " is already used for other labels");
                        }
                    });
                }
                Optional<String> iface = e.containsKey("interface") ? r.scalar(e.get("interface"), p + ".interface")
                        : Optional.empty();
                Optional<String> netns = e.containsKey("netns") ? r.scalar(e.get("netns"), p + ".netns") : Optional.empty();
                if (netns.isPresent() && iface.isEmpty()) {
                    r.problem(e.get("netns"), p + ".netns", "netns needs interface (the endpoint's interface inside it)");
                }
                if (name.isPresent() && !names.add(ns + "/" + name.get())) {
                    r.problem(e.get("name"), p + ".name", "duplicate endpoint '" + ns + "/" + name.get() + "'");
                }
                String who = ns + "/" + name.orElse("?");
                for (var a : List.of(Map.entry("ipv4", ip), Map.entry("ipv6", ip6))) {
                    a.getValue().ifPresent(addr -> {
                        String holder = addresses.putIfAbsent(addr, who);
                        if (holder != null) {
                            r.problem(e.get(a.getKey()), p + "." + a.getKey(), a.getKey() + " " + addr + " is already endpoint '"
                                    + holder + "': the datapath maps an address to one identity");
                        }
                    });
                }
                if (name.isPresent() && node.isPresent() && ip.isPresent()) {
                    long id;
                    if (explicit.isPresent()) {
                        id = explicit.get();
                    } else {
                        id = -1; // allocated below, once the file is known to be valid
                    }
                    endpoints.add(new Endpoint(name.get(), ns, labels, id, node.get(), ip.get(), iface, netns, ip6));
                }
            }
        }
        r.throwIfProblems();
        List<Endpoint> resolved = new ArrayList<>();
        for (Endpoint ep : endpoints) {
            if (ep.identity() > 0) {
                allocator.reserve(ep.labels(), ep.identity());
            }
        }
        for (Endpoint ep : endpoints) {
            long id = ep.identity() > 0 ? ep.identity() : allocator.identityOf(ep.labels());
            resolved.add(new Endpoint(ep.name(), ep.namespace(), ep.labels(), id, ep.node(), ep.ipv4(), ep.iface(),
                    ep.netns(), ep.ipv6()));
        }
        return new Contents(nodes, resolved);
    }

    /** An IPv6 literal ("2001:2::10"); parsed without any name lookup. */
    private static boolean isIpv6(String a) {
        if (!a.matches("[0-9a-fA-F:.]+") || !a.contains(":")) {
            return false;
        }
        try {
            return java.net.InetAddress.getByName(a) instanceof java.net.Inet6Address;
        } catch (java.net.UnknownHostException e) {
            return false;
        }
    }

    private static Optional<String> req(YamlReader r, Map<String, Node> m, String key, Node at, String path) {
        if (!m.containsKey(key)) {
            r.problem(at, path + "." + key, "required");
            return Optional.empty();
        }
        return r.scalar(m.get(key), path + "." + key);
    }
}
