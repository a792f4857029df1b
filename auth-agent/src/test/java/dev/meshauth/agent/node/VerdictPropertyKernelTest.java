package dev.meshauth.agent.node;

import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.KernelAuthMap;
import dev.meshauth.bpf.datapath.ClockOffset;
import dev.meshauth.bpf.datapath.Datapath;
import dev.meshauth.bpf.datapath.DatapathOptions;
import dev.meshauth.bpf.datapath.EnforcementProgram;
import dev.meshauth.bpf.datapath.Frames;
import dev.meshauth.bpf.datapath.Role;
import dev.meshauth.bpf.map.UpdateFlag;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import dev.meshauth.policy.PolicyException;
import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.endpoint.NodeInfo;
import dev.meshauth.policy.endpoint.ReservedIdentity;
import dev.meshauth.policy.eval.PolicyEngine;
import dev.meshauth.policy.eval.Verdict;
import dev.meshauth.policy.model.AuthType;
import dev.meshauth.policy.model.Direction;
import dev.meshauth.policy.model.Policy;
import dev.meshauth.policy.yaml.PolicyParser;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Random;
import java.util.Set;
import java.util.stream.Collectors;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The policy engine and the kernel agree: for random policy sets (CNP and CCNP, ingress, egress and deny
 * rules, wildcard and label selectors, entities, CIDR-only and empty rules, enableDefaultDeny, ports,
 * port ranges, named ports, TCP, UDP, SCTP, ANY, icmps, every auth mode), random auth map states and
 * random new packets both ways (into a local endpoint: its ingress policy; out of one: its egress policy;
 * TCP, UDP, SCTP, ICMP, a raw protocol; IPv4 and IPv6), the verdict {@link PolicyEngine#verdict} gives,
 * read against the auth map, equals what the standalone datapath's program of that role does to the
 * packet under {@code BPF_PROG_TEST_RUN} (connection tracking flushed before each, so each is new).
 * The datapath is programmed by the production {@link DatapathProgrammer} and assembled with the
 * engine's lookup order, so this ties every copy of the rule together.
 *
 * <p>Reproduce a failure with {@code -Dmeshauth.property.seed=S}; {@code -Dmeshauth.property.cases=N} runs
 * more cases. A failing case is shrunk to the fewest policy documents that still disagree and printed
 * as YAML with the packet, the auth map entry and both verdicts.
 */
@KernelTest
class VerdictPropertyKernelTest {
    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();

    private static final int CASES = Integer.getInteger("meshauth.property.cases", 1_000);
    private static final int PACKETS_PER_CASE = 12;
    private static final NodeInfo SELF = new NodeInfo("node-1", 1, "127.0.0.1");
    private static final NodeInfo OTHER = new NodeInfo("node-2", 2, "127.0.0.2");
    /** node-3 has no node id: its endpoints are unknown to the ipcache, so their packets come from world. */
    private static final List<NodeInfo> NODES = List.of(SELF, OTHER);
    private static final String WORLD_IP = "198.18.9.9";
    private static final String WORLD_IP6 = "2001:2:0:9::9";
    private static final List<Endpoint> ENDPOINTS = List.of(
            ep("web", "prod", 1001, "node-1", "198.18.0.1", "app", "web"),
            ep("db", "prod", 1002, "node-1", "198.18.0.2", "app", "db"),
            ep("web", "dev", 1003, "node-2", "198.18.1.3", "app", "web"),
            ep("job", "prod", 1004, "node-2", "198.18.1.4", "app", "job", "tier", "batch"),
            ep("db-a", "dev", 1005, "node-1", "198.18.0.5", "app", "db"),
            ep("db-b", "dev", 1005, "node-2", "198.18.1.5", "app", "db"),
            ep("api", "prod", 1006, "node-3", "198.18.2.6", "app", "api", "tier", "batch"));
    private static final int[] PORTS = {80, 443, 53, 8081, 9999, 22, 1023, 1024, 8500, 9001};
    private static final int TCP = 6;
    private static final int UDP = 17;
    private static final int SCTP = 132;
    private static final int ICMP = 1;
    private static final int RAW = 253;
    private static final int[] PROTOCOLS = {TCP, TCP, TCP, UDP, UDP, SCTP, ICMP, RAW};

    /** Every endpoint is dual-stack: its IPv6 address is 2001:2:: plus its IPv4 address's last two octets. */
    private static Endpoint ep(String name, String ns, long id, String node, String ip, String... kv) {
        Map<String, String> labels = new HashMap<>();
        for (int i = 0; i < kv.length; i += 2) {
            labels.put(kv[i], kv[i + 1]);
        }
        labels.put("io.kubernetes.pod.namespace", ns);
        String[] o = ip.split("\\.");
        return new Endpoint(name, ns, labels, id, node, ip, Optional.empty(), Optional.empty(),
                Optional.of("2001:2:0:" + o[2] + "::" + o[3]));
    }

    /** One random case: policy documents, auth map contents, packets. */
    record Case(List<String> documents, Map<AuthKey, Instant> auth, List<Packet> packets) {
    }

    /**
     * A new packet at a local endpoint: into it ({@code role} TO_ENDPOINT, {@code peer} the source) or out of
     * it (FROM_ENDPOINT, {@code peer} the destination). {@code port} is the ICMP type for ICMP, 0 for a raw
     * protocol.
     */
    record Packet(Role role, String local, Endpoint localEndpoint, String peer, int port, int protocol) {
        String src() {
            return role == Role.TO_ENDPOINT ? peer : local;
        }

        String dst() {
            return role == Role.TO_ENDPOINT ? local : peer;
        }

        byte[] frame() {
            return switch (protocol) {
                case TCP -> Frames.tcp(src(), dst(), 40_000, port);
                case UDP -> Frames.udp(src(), dst(), 40_000, port);
                case SCTP -> Frames.sctp(src(), dst(), 40_000, port);
                case ICMP -> Frames.icmp(src(), dst(), port, 7);
                default -> Frames.raw(src(), dst(), protocol);
            };
        }

        /** The protocol the policy sees: ICMPv6 for ICMP over IPv6. */
        int policyProtocol() {
            return protocol == ICMP && local.contains(":") ? 58 : protocol;
        }

        @Override
        public String toString() {
            return role + " " + dev.meshauth.policy.model.Protocol.name(policyProtocol()) + " " + src() + " -> " + dst()
                    + (protocol == RAW ? "" : ":" + port) + " (local " + localEndpoint.id() + ")";
        }
    }

    @Test
    void engineVerdictEqualsKernelVerdictForRandomPoliciesAndAuthStates() throws Exception {
        long seed = Long.getLong("meshauth.property.seed", System.nanoTime());
        Random rnd = new Random(seed);
        Instant now = Instant.now();
        Set<String> verdictsSeen = new HashSet<>();
        try (KernelAuthMap auth = KernelAuthMap.openOrCreate(bpffs.resolve("auth_prop"), 4096);
                Datapath dp = Datapath.create(auth, DatapathOptions.defaults(PolicyLookupOrder.forDatapath()),
                        new ClockOffset())) {
            for (int c = 0; c < CASES; c++) {
                Case k = randomCase(rnd, now);
                Optional<String> mismatch = firstMismatch(dp, auth, k, now, verdictsSeen);
                if (mismatch.isPresent()) {
                    Case minimal = shrink(dp, auth, k, now);
                    throw new AssertionError("seed " + seed + ", case " + c + ": the engine and the kernel disagree\n"
                            + firstMismatch(dp, auth, minimal, now, new HashSet<>()).orElse(mismatch.get())
                            + "\npolicies (shrunk from " + k.documents().size() + " documents):\n"
                            + String.join("---\n", minimal.documents()));
                }
            }
        }
        // The generator must reach every kind of verdict, or the agreement proves little.
        assertThat(verdictsSeen).as("verdicts reached over %d cases (seed %d)", CASES, seed)
                .contains("open", "allowed", "denied", "auth-valid", "auth-expired", "auth-missing", "world");
        for (Role role : Role.values()) {
            for (int proto : new int[] {TCP, UDP, SCTP, ICMP, RAW}) {
                assertThat(verdictsSeen).as("packets generated").contains(role + "/" + proto + "/v4", role + "/" + proto + "/v6");
            }
        }
    }

    /** Programs the case and runs its packets; the first disagreement, described, if any. */
    private static Optional<String> firstMismatch(Datapath dp, KernelAuthMap auth, Case k, Instant now, Set<String> seen)
            throws Exception {
        List<Policy> policies = new ArrayList<>();
        for (String doc : k.documents()) {
            policies.addAll(parse(doc));
        }
        PolicyEngine engine = PolicyEngine.evaluate(policies, ENDPOINTS);
        Set<Long> local = ENDPOINTS.stream().filter(e -> e.node().equals(SELF.name())).map(Endpoint::identity)
                .collect(Collectors.toSet());
        DatapathProgrammer.apply(new KernelDatapathTables(dp), NODES, ENDPOINTS, engine, SELF, local);
        auth.flush();
        for (var e : k.auth().entrySet()) {
            auth.put(e.getKey(), AuthInfo.expiringAt(e.getValue()), UpdateFlag.ANY);
        }
        for (Packet p : k.packets()) {
            Optional<Endpoint> peer = ENDPOINTS.stream().filter(e -> e.addresses().contains(p.peer())).findFirst();
            OptionalInt peerNode = peer.map(e -> NodeInfo.remoteNodeId(SELF.name(), e.node(), NodeInfo.idsByName(NODES)))
                    .orElse(OptionalInt.empty());
            // The datapath knows a peer only if the ipcache has it: else it is world, node 0.
            long remote = peerNode.isPresent() ? peer.get().identity() : ReservedIdentity.WORLD.id();
            int remoteNode = peerNode.orElse(0);
            if (peerNode.isEmpty()) {
                seen.add("world");
            }
            seen.add(p.role() + "/" + p.protocol() + (p.local().contains(":") ? "/v6" : "/v4"));
            Direction dir = p.role() == Role.TO_ENDPOINT ? Direction.INGRESS : Direction.EGRESS;
            Verdict v = engine.verdict(p.localEndpoint().identity(), remote, p.port(), p.policyProtocol(), dir);
            String engineSays;
            String authEntry = "not consulted";
            boolean expectPass;
            switch (v) {
                case Verdict.Allowed a -> {
                    expectPass = true;
                    engineSays = a.selected() ? "allowed" : "open";
                }
                case Verdict.Denied d -> {
                    expectPass = false;
                    engineSays = "denied";
                }
                case Verdict.AuthRequired r -> {
                    AuthKey key = new AuthKey(r.localIdentity(), r.remoteIdentity(), remoteNode,
                            new dev.meshauth.bpf.auth.AuthType(r.type().code()));
                    Instant exp = k.auth().get(key);
                    expectPass = exp != null && AuthInfo.expiringAt(exp).isValidAt(now);
                    engineSays = exp == null ? "auth-missing" : expectPass ? "auth-valid" : "auth-expired";
                    authEntry = key + (exp == null ? " absent" : " expires " + exp + " (now " + now + ")");
                }
            }
            seen.add(engineSays);
            dp.flushConntrack(); // every packet new: judged by policy, not by an earlier packet's entry
            int retval = dp.testRun(p.role(), p.frame(), 1).retval();
            boolean kernelPassed = retval == EnforcementProgram.TC_ACT_OK;
            if (kernelPassed != expectPass) {
                return Optional.of("packet: " + p + "\nengine: " + engineSays + " (" + v + ") so " + (expectPass ? "pass" : "drop")
                        + "\nkernel: " + (kernelPassed ? "pass" : "drop") + " (tc verdict " + retval + ")"
                        + "\nauth map entry: " + authEntry);
            }
        }
        return Optional.empty();
    }

    /** Drops documents one at a time while the case still disagrees. */
    private static Case shrink(Datapath dp, KernelAuthMap auth, Case k, Instant now) throws Exception {
        List<String> docs = new ArrayList<>(k.documents());
        for (int i = docs.size() - 1; i >= 0 && docs.size() > 1; i--) {
            List<String> fewer = new ArrayList<>(docs);
            fewer.remove(i);
            if (firstMismatch(dp, auth, new Case(fewer, k.auth(), k.packets()), now, new HashSet<>()).isPresent()) {
                docs = fewer;
            }
        }
        return new Case(docs, k.auth(), k.packets());
    }

    private static List<Policy> parse(String doc) throws PolicyException {
        return PolicyParser.parse("generated.yaml", doc).policies();
    }

    // ---- the generator ----

    private static Case randomCase(Random rnd, Instant now) {
        List<String> docs = new ArrayList<>();
        int n = 1 + rnd.nextInt(4);
        for (int i = 0; i < n; i++) {
            docs.add(policy(rnd, i));
        }
        Map<AuthKey, Instant> auth = new HashMap<>();
        List<Endpoint> locals = ENDPOINTS.stream().filter(e -> e.node().equals(SELF.name())).toList();
        for (Endpoint l : locals) {
            for (Endpoint r : ENDPOINTS) {
                OptionalInt node = NodeInfo.remoteNodeId(SELF.name(), r.node(), NodeInfo.idsByName(NODES));
                long remote = node.isPresent() ? r.identity() : ReservedIdentity.WORLD.id();
                for (AuthType t : List.of(AuthType.SPIRE, AuthType.TEST_ALWAYS_FAIL)) {
                    int roll = rnd.nextInt(3);
                    if (roll == 2) {
                        continue; // absent
                    }
                    AuthKey key = new AuthKey(l.identity(), remote, node.orElse(0), new dev.meshauth.bpf.auth.AuthType(t.code()));
                    auth.put(key, roll == 0 ? now.plus(Duration.ofHours(1)) : now.minus(Duration.ofHours(1)));
                }
            }
        }
        List<Packet> packets = new ArrayList<>();
        for (int i = 0; i < PACKETS_PER_CASE; i++) {
            boolean v6 = rnd.nextInt(4) == 0;
            Endpoint localEp = locals.get(rnd.nextInt(locals.size()));
            Endpoint peerEp = ENDPOINTS.get(rnd.nextInt(ENDPOINTS.size()));
            String peer = rnd.nextInt(8) == 0 ? (v6 ? WORLD_IP6 : WORLD_IP) : (v6 ? peerEp.ipv6().orElseThrow() : peerEp.ipv4());
            int proto = PROTOCOLS[rnd.nextInt(PROTOCOLS.length)];
            int port = switch (proto) {
                case ICMP -> v6 ? (rnd.nextBoolean() ? 128 : 3) : (rnd.nextBoolean() ? 8 : 13); // not ND: always passes
                case RAW -> 0;
                default -> PORTS[rnd.nextInt(PORTS.length)];
            };
            Role role = rnd.nextBoolean() ? Role.TO_ENDPOINT : Role.FROM_ENDPOINT;
            packets.add(new Packet(role, v6 ? localEp.ipv6().orElseThrow() : localEp.ipv4(), localEp, peer, port, proto));
        }
        return new Case(docs, auth, packets);
    }

    private static final String[] SELECTORS = {"{}", "{matchLabels: {app: web}}", "{matchLabels: {app: db}}",
        "{matchLabels: {tier: batch}}", "{matchExpressions: [{key: app, operator: In, values: [web, job]}]}",
        "{matchExpressions: [{key: tier, operator: DoesNotExist}]}",
        "{matchLabels: {io.kubernetes.pod.namespace: dev}}", "{matchLabels: {app: db, io.kubernetes.pod.namespace: prod}}"};
    private static final String[] PORT_SPECS = {"{port: '80', protocol: TCP}", "{port: '443'}", "{port: '53', protocol: UDP}",
        "{port: '8080', endPort: 8082, protocol: TCP}", "{port: '80', protocol: ANY}", "{port: '9999', protocol: UDP}",
        "{port: http}", "{port: '1', endPort: 1023, protocol: TCP}", "{port: '8000', endPort: 9000, protocol: ANY}",
        "{port: '53', protocol: SCTP}", "{port: '0', protocol: UDP}", "{port: '22', endPort: 80}"};
    private static final String[] ICMPS = {"icmps: [{fields: [{type: 8}]}]", "icmps: [{fields: [{type: EchoRequest, family: IPv6}]}]",
        "icmps: [{fields: [{type: 13}, {type: 128, family: IPv6}]}]"};
    private static final String[] MODES = {"required", "disabled", "test-always-fail"};
    private static final String[] ENTITIES = {"world", "cluster", "all", "host", "remote-node", "world, cluster"};

    private static String policy(Random rnd, int i) {
        boolean clusterwide = rnd.nextInt(10) < 3;
        StringBuilder y = new StringBuilder("apiVersion: cilium.io/v2\n");
        y.append("kind: ").append(clusterwide ? "CiliumClusterwideNetworkPolicy" : "CiliumNetworkPolicy").append('\n');
        y.append("metadata: {name: p").append(i).append(clusterwide ? "" : ", namespace: " + (rnd.nextBoolean() ? "prod" : "dev"))
                .append("}\nspec:\n  endpointSelector: ").append(pick(rnd, SELECTORS)).append('\n');
        if (rnd.nextInt(6) == 0) {
            y.append("  enableDefaultDeny: {ingress: ").append(rnd.nextBoolean()).append(", egress: ").append(rnd.nextBoolean())
                    .append("}\n");
        }
        Map<String, List<String>> sections = new HashMap<>();
        int rules = 1 + rnd.nextInt(3);
        for (int r = 0; r < rules; r++) {
            int s = rnd.nextInt(9);
            String section = s < 4 ? "ingress" : s < 6 ? "egress" : s < 8 ? "ingressDeny" : "egressDeny";
            sections.computeIfAbsent(section, x -> new ArrayList<>()).add(rule(rnd, section));
        }
        sections.forEach((section, items) -> {
            y.append("  ").append(section).append(":\n");
            items.forEach(item -> y.append("  - ").append(item).append('\n'));
        });
        return y.toString();
    }

    private static String rule(Random rnd, String section) {
        List<String> fields = new ArrayList<>();
        String peers = section.startsWith("ingress") ? "fromEndpoints" : "toEndpoints";
        String entities = section.startsWith("ingress") ? "fromEntities" : "toEntities";
        int p = rnd.nextInt(14);
        if (p >= 10) {
            fields.add(p == 13 ? (section.startsWith("ingress") ? "fromCIDR: [198.18.9.0/24]" : "toCIDR: [198.18.9.0/24]")
                    : entities + ": [" + pick(rnd, ENTITIES) + "]");
        } else if (p >= 3) {
            List<String> sels = new ArrayList<>();
            sels.add(p == 3 ? "{}" : pick(rnd, SELECTORS));
            if (rnd.nextInt(4) == 0) {
                sels.add(pick(rnd, SELECTORS));
            }
            fields.add(peers + ": [" + String.join(", ", sels) + "]");
        }
        if (rnd.nextInt(30) == 0) {
            return "{}"; // selects, admits nothing
        }
        if (rnd.nextInt(8) == 0) {
            fields.add(pick(rnd, ICMPS));
        } else if (rnd.nextInt(10) < 6 || fields.isEmpty()) {
            List<String> ports = new ArrayList<>();
            ports.add(pick(rnd, PORT_SPECS));
            if (rnd.nextInt(3) == 0) {
                ports.add(pick(rnd, PORT_SPECS));
            }
            fields.add("toPorts: [{ports: [" + String.join(", ", ports) + "]}]");
        }
        if (!section.endsWith("Deny") && rnd.nextInt(10) < 6) {
            fields.add("authentication: {mode: " + pick(rnd, MODES) + "}");
        }
        return "{" + String.join(", ", fields) + "}";
    }

    private static String pick(Random rnd, String[] from) {
        return from[rnd.nextInt(from.length)];
    }
}
