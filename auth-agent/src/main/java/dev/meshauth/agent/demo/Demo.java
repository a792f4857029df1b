package dev.meshauth.agent.demo;

import com.sun.net.httpserver.HttpServer;
import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.events.GcReason;
import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.node.Agent;
import dev.meshauth.agent.node.AgentConfig;
import dev.meshauth.agent.node.source.SourceConfig;
import dev.meshauth.agent.status.StatusClient;
import dev.meshauth.agent.status.StatusModel;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.datapath.Counter;
import dev.meshauth.bpf.fs.BpfFs;
import dev.meshauth.bpf.link.NetNs;
import dev.meshauth.agent.operator.PlacementSources;
import dev.meshauth.spire.entry.EntryLayout;
import dev.meshauth.spire.entry.EntryRegistrar;
import dev.meshauth.spire.entry.NodeRef;
import dev.meshauth.spire.entry.ParentTemplate;
import dev.meshauth.spire.entry.EntryRegistrarStubs;
import dev.meshauth.spire.entry.RegistrationSpec;
import dev.meshauth.spire.grpc.UnixSockets;
import io.grpc.ManagedChannel;
import io.spiffe.spiffeid.TrustDomain;

import java.io.Console;
import java.io.PrintWriter;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.ArrayDeque;
import java.util.Comparator;
import java.util.Deque;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.function.BooleanSupplier;

/**
 * Cilium's Star Wars mutual-authentication guide, for real, on one machine: an embedded SPIRE, two
 * "nodes" (two agents on 127.0.0.1 and 127.0.0.2), three "pods" (network namespaces), the standalone
 * eBPF datapath on the deathstar's node, and the guide's policy with {@code authentication.mode:
 * required}. Each step says what it shows and checks that it happened; everything is removed at the end
 * (also on Ctrl-C).
 */
public final class Demo implements AutoCloseable {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    private static final long DEATHSTAR = 1001;
    private static final long TIEFIGHTER = 1002;
    private static final long XWING = 1003;

    private final PrintWriter out;
    private final DemoOptions options;
    private final Commands commands;
    private final Deque<AutoCloseable> cleanup = new ArrayDeque<>();
    private Path dir;
    private int step;
    private Path sock1;
    private Path sock2;

    /** A demo printing to {@code out}, kernel datapath, ahead-of-traffic auth, cleaned up at the end. */
    public Demo(PrintWriter out, boolean interactive, Commands commands) {
        this(out, new DemoOptions(interactive, false, false, false), commands);
    }

    /** A demo printing to {@code out}, running the CLI steps with {@code commands}. */
    public Demo(PrintWriter out, DemoOptions options, Commands commands) {
        this.out = out;
        this.options = options;
        this.commands = commands;
    }

    /** Runs a meshauth command with its output into the demo's. */
    private int cli(String... args) {
        out.flush();
        int rc = commands.run(out, args);
        out.flush();
        return rc;
    }

    /** Shows a command as the user would type it, indented, then runs it. */
    private int show(String... args) {
        say("   $ meshauth " + String.join(" ", args));
        return cli(args);
    }

    private AgentConfig agentConfig(String node, Path endpoints, Path policy, Path spireAdmin, int port, Optional<Path> map,
            boolean standalone, Path statusSocket) {
        AuthManagerOptions opts = new AuthManagerOptions(1024, Duration.ofSeconds(1), 4, Duration.ofMillis(200),
                Duration.ofSeconds(2), Duration.ofMinutes(1), !options.reactive());
        return new AgentConfig(node, new SourceConfig.Files(endpoints, List.of(policy), Optional.empty()), spireAdmin, TD, port,
                map, standalone, Duration.ofMinutes(5), opts, Duration.ofSeconds(5), Optional.of(statusSocket), Optional.empty());
    }

    /** True when stdin and stdout are a terminal. */
    public static boolean onTerminal() {
        Console c = System.console();
        return c != null && c.isTerminal();
    }

    private void say(String text) {
        out.println(text);
        out.flush();
    }

    private void step(String title, String explanation) {
        step++;
        say("");
        say("== Step " + step + ": " + title);
        say(explanation.strip().indent(3).stripTrailing());
        if (options.interactive()) {
            out.print("   [press Enter]");
            out.flush();
            System.console().readLine();
        }
    }

    private static boolean waitFor(BooleanSupplier c, Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            if (c.getAsBoolean()) {
                return true;
            }
            Thread.sleep(50);
        }
        return c.getAsBoolean();
    }

    /** A step's expectation did not hold. */
    public static final class StepFailed extends Exception {
        private static final long serialVersionUID = 1L;

        StepFailed(int step, String what) {
            super("step " + step + " did not behave as the guide says: " + what);
        }
    }

    private void expect(boolean ok, String what) throws StepFailed {
        if (!ok) {
            throw new StepFailed(step, what);
        }
        say("   OK: " + what);
    }

    /**
     * Runs every step.
     *
     * @throws StepFailed naming the step that did not behave as the guide says
     */
    public void run() throws Exception {
        dir = Files.createTempDirectory("meshauth-demo");
        cleanup.push(() -> deleteTree(dir));
        sock1 = dir.resolve("node-1.sock");
        sock2 = dir.resolve("node-2.sock");
        if (options.simulation()) {
            say("SIMULATION (--datapath memory): no network namespaces, no eBPF, no packets. Each \"request\" is"
                    + " answered by `meshauth check`, from the agents' real policy evaluation and real auth state (real"
                    + " SPIRE APIs, real mutual TLS between the agents); run as root without --datapath for the real thing.");
        }

        DemoSpire spire;
        if (options.realSpire()) {
            step("Start a real SPIRE: spire-server and one spire-agent per node", """
                    The real spire-server (sqlite datastore, join_token node attestation) and a spire-agent for each
                    node, built from SPIRE's Go module the first time (minutes; cached after that). Each meshauth
                    agent is its spire-agent's authorized delegate (authorized_delegates, an entry for its uid), and
                    gets the workloads' SVIDs over the Delegated Identity API. Entries reach an agent on its next
                    sync, every 5 s by default: SPIRE's own pace.""");
            DemoSpire.Real real = DemoSpire.Real.start(dir.resolve("spire"), TD, List.of("node-1", "node-2"),
                    line -> say("   " + line));
            spire = real;
            cleanup.push(spire);
            say("   spire-server " + real.spire().server().binaries().version() + " and 2 spire-agents up; logs: "
                    + dir.resolve("spire") + "/*/*.log");
        } else {
            step("Start an embedded SPIRE-compatible server", """
                    It issues SPIFFE identities (X.509-SVIDs) for trust domain spiffe.cilium, and serves the same APIs
                    a real SPIRE agent and server do: the Workload API, the Delegated Identity API and the Entry API.
                    (`--spire real` runs the real spire-server and spire-agents instead.)""");
            spire = DemoSpire.Dev.start(dir.resolve("spire"), TD);
            cleanup.push(spire);
        }

        Path bpffs = dir.resolve("bpffs");
        DemoNetwork net = null;
        String deathstarIp = "198.18.1.2";
        Path endpoints;
        if (options.simulation()) {
            step("Describe two nodes and three pods", """
                    Simulated pods (no namespaces are created):
                      deathstar  (org=empire,   class=deathstar)   on node-1, 198.18.1.2
                      tiefighter (org=empire,   class=tiefighter)  on node-2, 198.18.2.2
                      xwing      (org=alliance, class=xwing)       on node-2, 198.18.3.2""");
            endpoints = Files.writeString(dir.resolve("endpoints.yaml"), """
                    nodes:
                      - {name: node-1, id: 1, internalIP: 127.0.0.1}
                      - {name: node-2, id: 2, internalIP: 127.0.0.2}
                    endpoints:
                      - {name: deathstar, node: node-1, ipv4: 198.18.1.2, identity: %d, labels: {org: empire, class: deathstar}}
                      - {name: tiefighter, node: node-2, ipv4: 198.18.2.2, identity: %d, labels: {org: empire, class: tiefighter}}
                      - {name: xwing, node: node-2, ipv4: 198.18.3.2, identity: %d, labels: {org: alliance, class: xwing}}
                    """.formatted(DEATHSTAR, TIEFIGHTER, XWING));
        } else {
            BpfFs.ensureMounted(bpffs);
            cleanup.push(() -> BpfFs.unmount(bpffs));
            step("Create two nodes and three pods", """
                    Pods are network namespaces joined through a router namespace (addresses in 198.18.0.0/15):
                      deathstar  (org=empire,   class=deathstar)   on node-1, 198.18.1.2, serves POST /v1/request-landing
                      tiefighter (org=empire,   class=tiefighter)  on node-2, 198.18.2.2
                      xwing      (org=alliance, class=xwing)       on node-2, 198.18.3.2""");
            net = DemoNetwork.create(List.of("deathstar", "tiefighter", "xwing"));
            cleanup.push(net);
            deathstarIp = net.pod("deathstar").ip();
            HttpServer landing = Landing.serve(net.pod("deathstar").netns(), deathstarIp);
            cleanup.push(() -> landing.stop(0));
            endpoints = Files.writeString(dir.resolve("endpoints.yaml"), """
                    nodes:
                      - {name: node-1, id: 1, internalIP: 127.0.0.1}
                      - {name: node-2, id: 2, internalIP: 127.0.0.2}
                    endpoints:
                      - {name: deathstar, node: node-1, ipv4: %s, identity: %d, labels: {org: empire, class: deathstar},
                         interface: %s, netns: %s}
                      - {name: tiefighter, node: node-2, ipv4: %s, identity: %d, labels: {org: empire, class: tiefighter}}
                      - {name: xwing, node: node-2, ipv4: %s, identity: %d, labels: {org: alliance, class: xwing}}
                    """.formatted(deathstarIp, DEATHSTAR, net.pod("deathstar").iface(), net.pod("deathstar").netns(),
                    net.pod("tiefighter").ip(), TIEFIGHTER, net.pod("xwing").ip(), XWING));
        }

        step("Apply the guide's policy and register the identities with SPIRE", """
                Only org=empire may reach the deathstar on TCP 80, and only once mutually authenticated:
                    ingress:
                    - fromEndpoints: [{matchLabels: {org: empire}}]
                      authentication: {mode: required}
                      toPorts: [{ports: [{port: "80", protocol: TCP}]}]
                `meshauth operator --once` creates one SPIRE entry per security identity per node hosting it, so
                each node's SPIRE agent issues the keys of its own pods only.""");
        Path policy = Files.writeString(dir.resolve("sw_l3_l4_mutual_auth.yaml"), """
                apiVersion: cilium.io/v2
                kind: CiliumNetworkPolicy
                metadata: {name: rule1}
                spec:
                  description: "L3-L4 policy to restrict deathstar access to empire ships only"
                  endpointSelector: {matchLabels: {org: empire, class: deathstar}}
                  ingress:
                  - fromEndpoints: [{matchLabels: {org: empire}}]
                    authentication: {mode: required}
                    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
                """);
        int rc = cli("operator", "--once", "--spire-server-socket", spire.serverSocket().toString(),
                "--endpoints", endpoints.toString());
        expect(rc == 0, "three SPIRE entries registered");

        step("Start one meshauth agent per node", options.reactive() ? """
                Each agent gets the SVIDs from SPIRE, listens for mutual TLS on its node's address, and fills its
                node's auth map. node-1 also loads meshauth's eBPF program on the deathstar's interface.
                --reactive: like Cilium, the agents authenticate a pair only when the datapath drops its first
                packet and signals; nothing is authenticated yet.""" : """
                Each agent gets the SVIDs from SPIRE, listens for mutual TLS on its node's address, and fills its
                node's auth map.""" + (options.simulation() ? "" : " node-1 also loads meshauth's eBPF program on the"
                + " deathstar's interface.") + """

                The policy requires the pair (deathstar, tiefighter), so node-1's agent authenticates it with
                node-2's agent right away, before any traffic (Cilium waits for the first dropped packet).""");
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        Path map1 = bpffs.resolve("node-1/cilium_auth_map");
        // node-2 first: node-1 authenticates with it as soon as it starts, and would meet a closed port otherwise.
        Agent node2 = Agent.start(agentConfig("node-2", endpoints, policy, spire.adminSocket("node-2"), port,
                options.simulation() ? Optional.empty() : Optional.of(bpffs.resolve("node-2/cilium_auth_map")), false, sock2),
                InstantSource.system());
        cleanup.push(node2);
        Agent node1 = Agent.start(agentConfig("node-1", endpoints, policy, spire.adminSocket("node-1"), port,
                options.simulation() ? Optional.empty() : Optional.of(map1), !options.simulation(), sock1),
                InstantSource.system());
        cleanup.push(node1);
        AuthKey pair = new AuthKey(DEATHSTAR, TIEFIGHTER, 2, AuthType.SPIRE);
        if (options.reactive()) {
            expect(waitFor(() -> node1.manager().stats().pending() == 0, Duration.ofSeconds(5)) && !present(node1, pair),
                    "no auth entry before traffic (reactive, as in Cilium)");
        } else {
            expect(waitFor(() -> present(node1, pair), spire.propagation().plusSeconds(5)),
                    "node-1 authenticated (deathstar, tiefighter) ahead of traffic");
        }

        if (options.simulation()) {
            simulatedRequests(node1, pair);
        } else {
            requests(node1, net, deathstarIp, map1, pair);
        }

        step("The auth events", """
                What happened, as `meshauth observe` prints it (like `hubble observe`): handshakes with their origin
                and duration, auth-required drops, entries deleted and why. Add --follow to watch live.""");
        show("observe", "--status-socket", sock1.toString());
        expect(node1.events().recent().stream().anyMatch(e -> e instanceof AuthEvent.HandshakeSucceeded ok
                && ok.key().equals(pair)), "the handshake for (deathstar, tiefighter) is in node-1's events");

        step("Each node holds the keys of its own pods", options.realSpire() ? """
                The operator registered each identity under the SPIRE agent of the node that hosts it, so each node's
                SPIRE agent issues only those SVIDs (Cilium gives every node every identity's key, cilium#31430).
                `meshauth certs` on each node:""" : """
                The operator registered each identity under the SPIRE agent of the node that hosts it; a real SPIRE
                agent issues a node only those SVIDs (Cilium gives every node every identity's key, cilium#31430).
                The embedded dev server is one SPIRE agent for both nodes, so here each node holds every key, and
                `meshauth certs` says which ones it does not host; `--spire real` shows each node with its own.""");
        show("certs", "--status-socket", sock1.toString());
        show("certs", "--status-socket", sock2.toString());
        if (options.realSpire()) {
            expect(waitFor(() -> node1.svidsHeld().equals(Set.of(DEATHSTAR)), spire.propagation()),
                    "node-1 holds the deathstar's key only");
            expect(waitFor(() -> node2.svidsHeld().equals(Set.of(TIEFIGHTER, XWING)),
                    spire.propagation()), "node-2 holds the tiefighter's and the xwing's keys only");
        }

        if (options.keep()) {
            keepRunning(endpoints, policy, map1, net);
            return;
        }

        step("Revoke the deathstar's identity", """
                Its SPIRE entry is deleted (the operator reconciles without it). node-1's SPIRE agent stops issuing
                its SVID, node-1's agent drops it and deletes every auth entry involving it, and the tiefighter's
                requests fail again: the deathstar can no longer prove who it is. (Each node holds only the keys of
                its own pods, so it learns of a remote identity's revocation when that pair's entry expires.)""");
        ManagedChannel ch = UnixSockets.channel(spire.serverSocket(), 32 << 20);
        cleanup.push(() -> ch.shutdownNow());
        // As the operator registered them (--registration node): each identity under the nodes hosting it.
        EntryLayout layout = new EntryLayout.NodeScoped(new ParentTemplate(ParentTemplate.NODE_ALIAS, TD, "default"),
                RegistrationSpec.ciliumOperator(TD));
        Map<Long, Set<NodeRef>> hosts = new java.util.TreeMap<>(PlacementSources.readHosts(endpoints, Optional.empty()));
        hosts.remove(DEATHSTAR);
        new EntryRegistrar(EntryRegistrarStubs.blocking(ch), RegistrationSpec.ciliumDefaults(TD), layout)
                .reconcile(layout.registrations(hosts));
        // Events follow the kernel write they report: wait for the event, then the map is already so.
        expect(waitFor(() -> node1.events().recent().stream().anyMatch(e -> e instanceof AuthEvent.EntryDeleted d
                && d.key().equals(pair) && d.reason() == GcReason.SVID_REMOVED), spire.propagation()),
                "node-1 logged the deletion, reason svid-removed");
        expect(!present(node1, pair), "node-1 removed the entry");
        if (options.simulation()) {
            expect(verdict(sock1, "tiefighter").equals("auth-required-missing"),
                    "tiefighter -> deathstar: auth-required-missing (simulated: would be dropped)");
        } else {
            expect(Landing.request(NetNs.named(net.pod("tiefighter").netns()), deathstarIp, 2000).isEmpty(),
                    "tiefighter's request fails now");
        }

        say("");
        say("All steps behaved as Cilium's mutual-authentication guide says."
                + (options.simulation() ? " (Simulated: run as root without --datapath memory to see packets dropped.)" : ""));
    }

    /** The kernel path: real requests through the namespaces and meshauth's eBPF program. */
    private void requests(Agent node1, DemoNetwork net, String target, Path map1, AuthKey pair) throws Exception {
        step("The xwing requests landing", """
                curl -XPOST deathstar/v1/request-landing from the xwing. No rule allows org=alliance, so the
                deathstar's datapath drops the packets and the request times out.""");
        Path tie = NetNs.named(net.pod("tiefighter").netns());
        Path xw = NetNs.named(net.pod("xwing").netns());
        expect(Landing.request(xw, target, 2000).isEmpty(), "xwing's request timed out (dropped by policy)");
        var dp = node1.datapath().orElseThrow();
        expect(dp.counters().get(Counter.DROPPED_POLICY) > 0, "the datapath counted policy drops");

        if (options.reactive()) {
            step("The tiefighter requests landing (reactive, as in Cilium)", """
                    Same request from the tiefighter. The policy allows it and demands authentication, but no pair is
                    authenticated yet: the datapath drops the first SYN and hands it to the agent, which runs the
                    mutual TLS handshake, writes the entry and puts the SYN back where it was dropped. Cilium waits for
                    TCP to retransmit the SYN, about a second later; here the connection opens within the handshake's
                    time. meshauth's default (ahead-of-traffic) mode drops nothing at all.""");
            long t0 = System.nanoTime();
            Optional<String> landed = Landing.request(tie, target, 5000);
            long ms = (System.nanoTime() - t0) / 1_000_000;
            say("   deathstar answered after " + ms + " ms: " + landed.map(String::strip).orElse("(nothing)"));
            expect(landed.map(x -> x.contains("Ship landed")).orElse(false), "Ship landed");
            expect(dp.counters().get(Counter.DROPPED_AUTH) > 0, "the first packet was dropped for lack of authentication"
                    + " (auth drops: " + dp.counters().get(Counter.DROPPED_AUTH) + ")");
            expect(dp.counters().get(Counter.SYNS_HELD) > 0 && ms < 1000, "the SYN was held and put back: no wait for TCP's"
                    + " retransmit (held SYNs: " + dp.counters().get(Counter.SYNS_HELD) + ", " + ms + " ms)");
        } else {
            step("The tiefighter requests landing", """
                    Same request from the tiefighter. The policy allows it and demands authentication; the pair was
                    authenticated before the first packet, so not a single packet is dropped for lack of it.""");
            Optional<String> landed = Landing.request(tie, target, 3000);
            say("   deathstar answered: " + landed.map(String::strip).orElse("(nothing)"));
            expect(landed.map(x -> x.contains("Ship landed")).orElse(false), "Ship landed");
            expect(dp.counters().get(Counter.DROPPED_AUTH) == 0, "zero auth drops");
        }

        step("The deathstar calls out", """
                The deathstar asks the xwing's beacon for its position. The deathstar's ingress is default-deny, but
                its datapath tracks connections as Cilium's does: the connection it opened is let through its egress
                (no egress policy), and the answer comes back as a reply. Only new connections meet the policy:
                the xwing still cannot open one to the deathstar.""");
        HttpServer beacon = Landing.serve(net.pod("xwing").netns(), net.pod("xwing").ip(), "Rebel position: Yavin 4");
        cleanup.push(() -> beacon.stop(0));
        Path ds = NetNs.named(net.pod("deathstar").netns());
        long replies = dp.counters().get(Counter.CT_REPLY);
        Optional<String> answer = Landing.request(ds, net.pod("xwing").ip(), 3000);
        say("   the xwing answered: " + answer.map(String::strip).orElse("(nothing)"));
        expect(answer.map(x -> x.contains("Yavin")).orElse(false), "the deathstar got its answer");
        expect(dp.counters().get(Counter.CT_REPLY) > replies, "the answer passed as a reply of a tracked connection");
        expect(Landing.request(xw, target, 1000).isEmpty(), "the xwing still cannot open a connection to the deathstar");

        step("The auth map", """
                What the kernel enforces: node-1's auth map, as `meshauth bpf auth list` prints it. The entry
                expires with the earlier of the two SVIDs; the agent re-authenticates before then.""");
        show("bpf", "auth", "list", "--map", map1.toString());
        expect(present(node1, pair), "the entry (deathstar, tiefighter, node 2, spire) is in the kernel map");
        Map<Counter, Long> c = dp.counters();
        say("   datapath counters: passed=" + c.get(Counter.PASSED) + " dropped_policy=" + c.get(Counter.DROPPED_POLICY)
                + " dropped_auth=" + c.get(Counter.DROPPED_AUTH) + " signals=" + c.get(Counter.SIGNALS_EMITTED)
                + " connections=" + c.get(Counter.CT_CREATED) + " replies=" + c.get(Counter.CT_REPLY));
    }

    /** The simulation: verdicts from the agent's policy evaluation and auth state, no packets. */
    private void simulatedRequests(Agent node1, AuthKey pair) throws Exception {
        step("The xwing requests landing (simulated)", """
                `meshauth check` asks node-1's agent what its datapath would do with xwing -> deathstar TCP/80.
                No rule allows org=alliance: denied by policy.""");
        show("check", "--status-socket", sock1.toString(), "--from", "xwing", "--to", "deathstar", "--port", "80");
        expect(verdict(sock1, "xwing").equals("denied-by-policy"), "xwing -> deathstar: denied-by-policy");

        step("The tiefighter requests landing (simulated)", """
                Allowed by the policy, which demands authentication; the pair was authenticated ahead of traffic,
                so the verdict is allowed, until the entry's expiry.""");
        show("check", "--status-socket", sock1.toString(), "--from", "tiefighter", "--to", "deathstar", "--port", "80");
        expect(verdict(sock1, "tiefighter").equals("allowed"), "tiefighter -> deathstar: allowed");

        step("The auth map", """
                node-1's auth map (in memory in this simulation), as `meshauth status` summarizes it.""");
        show("status", "--status-socket", sock1.toString());
        expect(present(node1, pair), "the entry (deathstar, tiefighter, node 2, spire) is held");
    }

    private static String verdict(Path socket, String from) throws Exception {
        StatusModel.Check c = new StatusClient(socket).get(StatusClient.query("/v1/check", Map.of("from", from, "to",
                "deathstar", "port", 80)), new com.fasterxml.jackson.core.type.TypeReference<>() { });
        return c.verdict();
    }

    /** --keep: print what to try, and return; the caller keeps the process (and everything) alive until Ctrl-C. */
    private void keepRunning(Path endpoints, Path policy, Path map1, DemoNetwork net) {
        say("");
        say("== Everything stays up (--keep). Try, in another terminal:");
        say("   ./meshauth status  --status-socket " + sock1 + " --verbose");
        say("   ./meshauth certs   --status-socket " + sock2);
        say("   ./meshauth observe --status-socket " + sock1 + " --follow");
        say("   ./meshauth check   --status-socket " + sock1 + " --from tiefighter --to deathstar --port 80");
        if (net != null) {
            say("   ./meshauth bpf auth list --map " + map1);
            say("   ./meshauth bpf auth flush --map " + map1 + "   # then watch the agent re-create the entry");
            say("   ip netns exec " + net.pod("tiefighter").netns() + " curl -s -XPOST http://" + net.pod("deathstar").ip()
                    + "/v1/request-landing");
            say("   ip netns exec " + net.pod("xwing").netns() + " curl -s -m 2 -XPOST http://" + net.pod("deathstar").ip()
                    + "/v1/request-landing");
        }
        say("   edit " + policy + " or " + endpoints + ": the agents apply it within a second");
        say("Press Ctrl-C to stop and remove everything.");
    }

    private static boolean present(Agent a, AuthKey k) {
        try {
            return a.authMap().get(k).isPresent();
        } catch (Exception e) {
            return false;
        }
    }

    private static void deleteTree(Path p) throws java.io.IOException {
        try (var walk = Files.walk(p)) {
            walk.sorted(Comparator.reverseOrder()).forEach(f -> f.toFile().delete());
        }
    }

    /** Removes everything the demo created, newest first; safe to call twice. */
    @Override
    public synchronized void close() {
        while (!cleanup.isEmpty()) {
            try {
                cleanup.pop().close();
            } catch (Exception e) {
                out.println("meshauth demo: cleanup step failed: " + e.getMessage());
            }
        }
        out.flush();
    }
}
