package dev.meshauth.policy.eval;

import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.endpoint.NodeInfo;
import dev.meshauth.policy.endpoint.ReservedIdentity;
import dev.meshauth.policy.model.AuthType;
import dev.meshauth.policy.model.Direction;
import dev.meshauth.policy.model.EndpointSelector;
import dev.meshauth.policy.model.Entity;
import dev.meshauth.policy.model.Peers;
import dev.meshauth.policy.model.Policy;
import dev.meshauth.policy.model.PortProtocol;
import dev.meshauth.policy.model.Protocol;
import dev.meshauth.policy.model.Rule;

import java.util.ArrayList;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * Evaluates policies over endpoints, purely: no I/O, no clock. Produces the standalone datapath's policy
 * entries (port ranges as port/prefix keys, looked up as the datapath does: {@link LookupStep#ORDER}, longest
 * match within a step), the auth keys current traffic will need, and explanations.
 *
 * <p>Semantics, as Cilium's: an endpoint no policy selects in a direction is default-allow there; a
 * selected one is default-deny. Deny wins over allow, also over a more specific allow (the deny is
 * written into the specific entry). Where allows overlap, an explicit {@code authentication.mode} beats
 * a rule without one, and the higher auth type wins; an explicit auth type on a more generic entry is
 * propagated to more specific entries without one (Cilium's authPreferredInsert).
 */
public final class PolicyEngine {
    /** Protocols explain shows even when no entry names them. */
    private static final int[] SHOWN_PROTOCOLS = {Protocol.TCP.number(), Protocol.UDP.number()};
    /** Protocol numbers standing for "a protocol no entry names" (the first one not named is probed). */
    private static final int[] UNNAMED_PROTOCOLS = {253, 254, 255, 252};

    private final Map<EntryKey, EntryValue> entries;
    private final Set<Long> ingressEnforced;
    private final Set<Long> egressEnforced;
    private final Map<Long, List<EntryKey>> keysByLocal;
    private final Set<Long> ingressWithEntries = new HashSet<>();
    private final Set<Long> egressWithEntries = new HashSet<>();

    PolicyEngine(Map<EntryKey, EntryValue> entries, Set<Long> ingressEnforced, Set<Long> egressEnforced) {
        this.entries = entries;
        this.ingressEnforced = ingressEnforced;
        this.egressEnforced = egressEnforced;
        this.keysByLocal = new HashMap<>();
        entries.keySet().forEach(k -> keysByLocal.computeIfAbsent(k.local(), x -> new ArrayList<>()).add(k));
        entries.keySet().forEach(k -> (k.direction() == Direction.INGRESS ? ingressWithEntries : egressWithEntries)
                .add(k.local()));
    }

    /** Evaluates {@code policies} for the identities of {@code endpoints} (a full pass), without a budget. */
    public static PolicyEngine evaluate(List<Policy> policies, List<Endpoint> endpoints) {
        return evaluate(policies, endpoints, Budget.UNLIMITED);
    }

    /**
     * Evaluates {@code policies} for the identities of {@code endpoints}, charging {@code budget}.
     *
     * @throws EvaluationOverrun if the budget is spent first
     */
    public static PolicyEngine evaluate(List<Policy> policies, List<Endpoint> endpoints, Budget budget) {
        return evaluate(policies, endpoints, budget, id -> true);
    }

    /**
     * Evaluates {@code policies} for the endpoints of the identities {@code locals} accepts only (a node's
     * own: what its datapath and its auth requirements need), every endpoint still a possible peer. The
     * others are left unselected: ask a verdict only for an accepted identity's side.
     *
     * @throws EvaluationOverrun if the budget is spent first
     */
    public static PolicyEngine evaluate(List<Policy> policies, List<Endpoint> endpoints, Budget budget,
            java.util.function.LongPredicate locals) {
        IncrementalEvaluator ev = new IncrementalEvaluator(budget, locals);
        for (Endpoint e : endpoints) {
            ev.putIdentity(e.identity(), e.labels());
        }
        for (int i = 0; i < policies.size(); i++) {
            ev.putPolicies("#" + i, List.of(policies.get(i)));
        }
        return ev.snapshot();
    }

    /** What one policy adds: raw (unpropagated) entries by local identity, and the locals it enforces. */
    record Contribution(Map<Long, Map<EntryKey, EntryValue>> rawByLocal, Set<Long> ingress, Set<Long> egress) {
    }

    /** One policy's entries against the current identities. */
    static Contribution contribute(Policy p, Map<Long, Map<String, String>> identities, Budget budget,
            java.util.function.LongPredicate locals) {
        Map<Long, Map<EntryKey, EntryValue>> raw = new HashMap<>();
        Set<Long> ingress = new HashSet<>();
        Set<Long> egress = new HashSet<>();
        List<Long> subjects = matching(p.subject(), identities);
        subjects.removeIf(id -> !locals.test(id));
        if (subjects.isEmpty()) {
            return new Contribution(raw, ingress, egress);
        }
        if (p.defaultDenyIngress() && p.rules().stream().anyMatch(r -> r.direction() == Direction.INGRESS)) {
            ingress.addAll(subjects);
        }
        if (p.defaultDenyEgress() && p.rules().stream().anyMatch(r -> r.direction() == Direction.EGRESS)) {
            egress.addAll(subjects);
        }
        for (Rule rule : p.rules()) {
            if (rule.matchesNothing()) {
                continue; // selects (default-deny above) but admits no peer meshauth can identify
            }
            List<Long> remotes = rule.peers().any() ? List.of(0L) : peers(rule.peers(), identities);
            String reason = p.id() + " " + (rule.direction() == Direction.INGRESS ? "ingress" : "egress")
                    + (rule.deny() ? "Deny" : "") + "[" + rule.index() + "]";
            EntryValue value = new EntryValue(rule.deny(), rule.deny() ? AuthType.DISABLED : rule.authType(),
                    !rule.deny() && rule.auth().isPresent(), Set.of(reason));
            List<PortProtocol> ports = rule.ports().isEmpty() ? List.of(PortProtocol.ANY) : rule.ports();
            for (long local : subjects) {
                Map<EntryKey, EntryValue> mine = raw.computeIfAbsent(local, x -> new HashMap<>());
                for (long remote : remotes) {
                    for (PortProtocol pp : ports) {
                        List<EntryKey> keys = keys(local, remote, pp, rule.direction());
                        for (EntryKey k : keys) {
                            mine.merge(k, value, EntryValue::merge);
                        }
                        budget.charge(keys.size());
                    }
                }
            }
        }
        return new Contribution(raw, ingress, egress);
    }

    static List<Long> matching(EndpointSelector s, Map<Long, Map<String, String>> identities) {
        List<Long> out = new ArrayList<>();
        identities.forEach((id, labels) -> {
            if (s.matches(labels)) {
                out.add(id);
            }
        });
        return out;
    }

    /** The identities a rule's peers stand for: matching endpoints, and the entities' reserved identities. */
    private static List<Long> peers(Peers peers, Map<Long, Map<String, String>> identities) {
        Set<Long> out = new TreeSet<>();
        for (EndpointSelector s : peers.endpoints()) {
            out.addAll(matching(s, identities));
        }
        for (Entity e : peers.entities()) {
            out.addAll(e.reservedIdentities());
        }
        if (peers.allEndpoints()) {
            out.addAll(identities.keySet());
        }
        return new ArrayList<>(out);
    }

    /**
     * A rule's port (range) as keys: every protocol and port; or per protocol (ANY with a port: TCP, UDP and
     * SCTP) the range's port/prefix pairs; an ICMP type is one exact key.
     */
    private static List<EntryKey> keys(long local, long remote, PortProtocol pp, Direction dir) {
        if (pp.protocol() == Protocol.ANY && pp.port() == 0) {
            return List.of(EntryKey.anyProtocol(local, remote, dir));
        }
        List<Protocol> protos = pp.protocol() == Protocol.ANY ? Protocol.ANY_WITH_PORTS : List.of(pp.protocol());
        List<PortPrefix> prefixes = pp.port() == 0 ? List.of(new PortPrefix(0, 0)) : PortPrefix.of(pp.port(), pp.endPort());
        List<EntryKey> out = new ArrayList<>(protos.size() * prefixes.size());
        for (Protocol proto : protos) {
            for (PortPrefix prefix : prefixes) {
                out.add(new EntryKey(local, remote, proto.number(), prefix.port(), prefix.length(), dir));
            }
        }
        return out;
    }

    /** Deny into covered allows; explicit auth from generic entries into specific default ones (see {@link Propagation}). */
    static Map<EntryKey, EntryValue> propagate(Map<EntryKey, EntryValue> raw, Budget budget) {
        return Propagation.propagate(raw, budget);
    }

    /** Output 1: the policy map entries. */
    public Map<EntryKey, EntryValue> entries() {
        return entries;
    }

    /** Identities with ingress (resp. egress) policy: default-deny there. */
    public Set<Long> enforced(Direction dir) {
        return dir == Direction.INGRESS ? ingressEnforced : egressEnforced;
    }

    /**
     * The policy entry the datapath hits for one packet, probing in {@link LookupStep#ORDER} with the
     * longest match within each step: empty means "allowed, no policy selects the endpoint"; a present
     * value is the entry that matched, or a synthetic default-deny.
     *
     * @param port     destination port; the ICMP type for ICMP and ICMPv6; 0 for protocols without ports
     * @param protocol the IP protocol number
     */
    public Optional<EntryValue> lookup(long local, long remote, int port, int protocol, Direction dir) {
        for (LookupStep step : LookupStep.ORDER) {
            EntryValue v = longestMatch(local, step.anyRemote() ? 0 : remote, port, protocol, dir);
            if (v != null) {
                return Optional.of(v);
            }
        }
        return enforced(dir).contains(local) ? Optional.of(DEFAULT_DENY) : Optional.empty();
    }

    /** The entry an LPM lookup of (local, remote, dir, protocol, port) finds: the longest prefix that matches. */
    private EntryValue longestMatch(long local, long remote, int port, int protocol, Direction dir) {
        if (protocol != 0) {
            for (int len = 16; len >= 0; len--) {
                EntryValue v = entries.get(new EntryKey(local, remote, protocol, port & PortPrefix.mask(len), len, dir));
                if (v != null) {
                    return v;
                }
            }
        }
        return entries.get(EntryKey.anyProtocol(local, remote, dir));
    }

    /**
     * True if some policy entry has {@code local} on the {@code dir} side: its datapath must look policy up
     * even if it is not default-deny ({@code enableDefaultDeny: false}).
     */
    public boolean hasEntries(long local, Direction dir) {
        return (dir == Direction.INGRESS ? ingressWithEntries : egressWithEntries).contains(local);
    }

    private static final EntryValue DEFAULT_DENY = new EntryValue(true, AuthType.DISABLED, false,
            Set.of("default deny (selected, no rule allows)"));

    /**
     * One side's verdict, as the datapath of the {@code local} endpoint reaches it for a packet to or from
     * {@code remote} (world, 2, for an address it does not know).
     */
    public Verdict verdict(long local, long remote, int port, int protocol, Direction dir) {
        Optional<EntryValue> hit = lookup(local, remote, port, protocol, dir);
        if (hit.isEmpty()) {
            return new Verdict.Allowed(false, Set.of());
        }
        EntryValue v = hit.get();
        if (v.deny()) {
            return new Verdict.Denied(dir, v.reasons());
        }
        if (v.authType() == AuthType.DISABLED) {
            return new Verdict.Allowed(true, v.reasons());
        }
        return new Verdict.AuthRequired(dir, v.authType(), local, remote, v.reasons());
    }

    /**
     * The verdict for traffic from identity {@code from} to identity {@code to}: the sender's egress
     * policy and the receiver's ingress policy both apply. A deny on either side drops (egress first, as
     * the packet meets it first); otherwise the receiver's auth requirement, else the sender's, must be
     * met; otherwise it passes.
     */
    public Verdict verdict(long from, long to, int port, int protocol) {
        Verdict egress = verdict(from, to, port, protocol, Direction.EGRESS);
        Verdict ingress = verdict(to, from, port, protocol, Direction.INGRESS);
        if (egress instanceof Verdict.Denied) {
            return egress;
        }
        if (ingress instanceof Verdict.Denied) {
            return ingress;
        }
        if (ingress instanceof Verdict.AuthRequired) {
            return ingress;
        }
        if (egress instanceof Verdict.AuthRequired) {
            return egress;
        }
        Verdict.Allowed in = (Verdict.Allowed) ingress;
        Verdict.Allowed out = (Verdict.Allowed) egress;
        Set<String> reasons = new TreeSet<>(in.reasons());
        reasons.addAll(out.reasons());
        return new Verdict.Allowed(in.selected() || out.selected(), reasons);
    }

    /** Output 3: every auth type traffic between {@code local} and {@code remote} can demand. */
    public Set<AuthType> authTypes(long local, long remote) {
        Set<AuthType> out = EnumSet.noneOf(AuthType.class);
        for (Direction dir : Direction.values()) {
            for (int[] probe : boundaries(local)) {
                if (verdict(local, remote, probe[1], probe[0], dir) instanceof Verdict.AuthRequired a) {
                    out.add(a.type());
                }
            }
        }
        return out;
    }

    /**
     * One (protocol, port) in every region where {@code local}'s lookup can answer differently: for each
     * protocol its entries name, port 0 and every entry's first port and the port after its last; and one
     * protocol no entry names.
     */
    private List<int[]> boundaries(long local) {
        java.util.SortedMap<Integer, Set<Integer>> ports = new java.util.TreeMap<>();
        for (EntryKey k : keysByLocal.getOrDefault(local, List.of())) {
            if (k.protocol() == 0) {
                continue;
            }
            Set<Integer> ps = ports.computeIfAbsent(k.protocol(), x -> new TreeSet<>(Set.of(0)));
            ps.add(k.firstPort());
            if (k.lastPort() < 0xFFFF) {
                ps.add(k.lastPort() + 1);
            }
        }
        List<int[]> out = new ArrayList<>();
        ports.forEach((proto, ps) -> ps.forEach(port -> out.add(new int[] {proto, port})));
        for (int p : UNNAMED_PROTOCOLS) {
            if (!ports.containsKey(p)) {
                out.add(new int[] {p, 0});
                break;
            }
        }
        return out;
    }

    /**
     * The (protocol, port) rows explain shows for {@code local}: every first port its entries name, per
     * protocol named (and TCP and UDP), plus port 0 standing for "any other port".
     */
    private List<int[]> shownPorts(long local) {
        java.util.SortedMap<Integer, Set<Integer>> ports = new java.util.TreeMap<>();
        for (int p : SHOWN_PROTOCOLS) {
            ports.put(p, new TreeSet<>(Set.of(0)));
        }
        for (EntryKey k : keysByLocal.getOrDefault(local, List.of())) {
            if (k.protocol() != 0) {
                ports.computeIfAbsent(k.protocol(), x -> new TreeSet<>(Set.of(0))).add(k.firstPort());
            }
        }
        List<int[]> out = new ArrayList<>();
        ports.forEach((proto, ps) -> ps.forEach(port -> out.add(new int[] {proto, port})));
        return out;
    }

    /**
     * Output 2: the auth map keys each node needs for traffic between the given endpoints, reserved
     * identities excluded (never authenticated). Works from the entries, not from endpoint pairs: only
     * identity pairs that some auth-requiring entry can match are probed.
     */
    public Set<AuthRequirement> requiredAuth(List<Endpoint> endpoints, List<NodeInfo> nodes) {
        Map<String, Integer> nodeIds = NodeInfo.idsByName(nodes);
        Map<Long, Set<String>> nodesOf = new HashMap<>();
        for (Endpoint e : endpoints) {
            if (!ReservedIdentity.isReserved(e.identity())) {
                nodesOf.computeIfAbsent(e.identity(), x -> new TreeSet<>()).add(e.node());
            }
        }
        Map<Long, Set<Long>> candidates = new HashMap<>();
        for (var e : entries.entrySet()) {
            EntryKey k = e.getKey();
            if (e.getValue().deny() || e.getValue().authType() == AuthType.DISABLED || !nodesOf.containsKey(k.local())) {
                continue;
            }
            Set<Long> remotes = candidates.computeIfAbsent(k.local(), x -> new HashSet<>());
            if (k.remote() == 0) {
                remotes.addAll(nodesOf.keySet());
            } else if (nodesOf.containsKey(k.remote())) {
                remotes.add(k.remote());
            }
        }
        Set<AuthRequirement> out = new HashSet<>();
        candidates.forEach((local, remotes) -> {
            for (long remote : remotes) {
                for (AuthType t : authTypes(local, remote)) {
                    for (String localNode : nodesOf.get(local)) {
                        for (String remoteNode : nodesOf.get(remote)) {
                            if (local == remote && localNode.equals(remoteNode) && endpointsOn(endpoints, local, localNode) < 2) {
                                continue; // an endpoint talking to itself is not authenticated
                            }
                            NodeInfo.remoteNodeId(localNode, remoteNode, nodeIds).ifPresent(id ->
                                    out.add(new AuthRequirement(localNode, local, remote, id, t)));
                        }
                    }
                }
            }
        });
        return out;
    }

    private static int endpointsOn(List<Endpoint> endpoints, long identity, String node) {
        int n = 0;
        for (Endpoint e : endpoints) {
            if (e.identity() == identity && e.node().equals(node)) {
                n++;
            }
        }
        return n;
    }

    /** Every (from, to, port, protocol) verdict between the endpoints, ingress and egress. */
    public List<Explanation> explain(List<Endpoint> endpoints) {
        List<Explanation> out = new ArrayList<>();
        for (Endpoint from : endpoints) {
            for (Endpoint to : endpoints) {
                if (from == to) {
                    continue;
                }
                explainOne(out, from, to, to.identity(), from.identity(), Direction.INGRESS);
                explainOne(out, from, to, from.identity(), to.identity(), Direction.EGRESS);
            }
        }
        return out;
    }

    private void explainOne(List<Explanation> out, Endpoint from, Endpoint to, long local, long remote, Direction dir) {
        for (int[] probe : shownPorts(local)) {
            int proto = probe[0];
            int port = probe[1];
            Verdict v = verdict(local, remote, port, proto, dir);
            String text = switch (v) {
                case Verdict.Allowed a when !a.selected() -> null;
                case Verdict.Allowed a -> "allow";
                case Verdict.Denied d -> "deny";
                case Verdict.AuthRequired r -> "allow+auth";
            };
            if (text == null) {
                continue;
            }
            AuthType type = v instanceof Verdict.AuthRequired r ? r.type() : AuthType.DISABLED;
            out.add(new Explanation(from.name(), to.name(), dir, port, Protocol.name(proto), text, type,
                    String.join(", ", v.reasons())));
        }
    }
}
