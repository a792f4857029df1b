package dev.meshauth.agent.demo;

import com.sun.net.httpserver.HttpServer;
import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.cli.Main;
import dev.meshauth.agent.node.Agent;
import dev.meshauth.agent.node.AgentConfig;
import dev.meshauth.agent.node.source.SourceConfig;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.datapath.Counter;
import dev.meshauth.bpf.fs.BpfFs;
import dev.meshauth.bpf.link.NetNs;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import dev.meshauth.spire.entry.EntryRegistrar;
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
    private final boolean interactive;
    private final Deque<AutoCloseable> cleanup = new ArrayDeque<>();
    private Path dir;
    private int step;

    /** A demo printing to {@code out}; pauses between steps only if {@code interactive}. */
    public Demo(PrintWriter out, boolean interactive) {
        this.out = out;
        this.interactive = interactive;
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
        if (interactive) {
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
        Path bpffs = dir.resolve("bpffs");
        BpfFs.ensureMounted(bpffs);
        cleanup.push(() -> BpfFs.unmount(bpffs));

        step("Start an embedded SPIRE-compatible server", """
                It issues SPIFFE identities (X.509-SVIDs) for trust domain spiffe.cilium, and serves the same APIs
                a real SPIRE agent and server do: the Workload API, the Delegated Identity API and the Entry API.""");
        DevServerConfig spireConfig = DevServerConfig.under(dir.resolve("spire"), TD);
        DevServer spire = DevServer.start(spireConfig, InstantSource.system());
        cleanup.push(spire);

        step("Create two nodes and three pods", """
                Pods are network namespaces joined through a router namespace (addresses in 198.18.0.0/15):
                  deathstar  (org=empire,   class=deathstar)   on node-1, 198.18.1.2, serves POST /v1/request-landing
                  tiefighter (org=empire,   class=tiefighter)  on node-2, 198.18.2.2
                  xwing      (org=alliance, class=xwing)       on node-2, 198.18.3.2""");
        DemoNetwork net = DemoNetwork.create(List.of("deathstar", "tiefighter", "xwing"));
        cleanup.push(net);
        HttpServer landing = Landing.serve(net.pod("deathstar").netns(), net.pod("deathstar").ip());
        cleanup.push(() -> landing.stop(0));
        Path endpoints = Files.writeString(dir.resolve("endpoints.yaml"), """
                nodes:
                  - {name: node-1, id: 1, internalIP: 127.0.0.1}
                  - {name: node-2, id: 2, internalIP: 127.0.0.2}
                endpoints:
                  - {name: deathstar, node: node-1, ipv4: %s, identity: %d, labels: {org: empire, class: deathstar},
                     interface: %s, netns: %s}
                  - {name: tiefighter, node: node-2, ipv4: %s, identity: %d, labels: {org: empire, class: tiefighter}}
                  - {name: xwing, node: node-2, ipv4: %s, identity: %d, labels: {org: alliance, class: xwing}}
                """.formatted(net.pod("deathstar").ip(), DEATHSTAR, net.pod("deathstar").iface(), net.pod("deathstar").netns(),
                net.pod("tiefighter").ip(), TIEFIGHTER, net.pod("xwing").ip(), XWING));

        step("Apply the guide's policy and register the identities with SPIRE", """
                Only org=empire may reach the deathstar on TCP 80, and only once mutually authenticated:
                    ingress:
                    - fromEndpoints: [{matchLabels: {org: empire}}]
                      authentication: {mode: required}
                      toPorts: [{ports: [{port: "80", protocol: TCP}]}]
                `meshauth operator --once` creates one SPIRE entry per security identity.""");
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
        int rc = Main.run("operator", "--once", "--spire-server-socket", spireConfig.serverSocket().toString(),
                "--endpoints", endpoints.toString());
        expect(rc == 0, "three SPIRE entries registered");

        step("Start one meshauth agent per node", """
                Each agent gets the SVIDs of its node's identities from SPIRE, listens for mutual TLS on its node's
                address, and fills its node's auth map. node-1 also loads meshauth's eBPF program on the deathstar's
                interface. The policy requires the pair (deathstar, tiefighter), so node-1's agent authenticates it
                with node-2's agent right away, before any traffic.""");
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort();
        }
        AuthManagerOptions opts = new AuthManagerOptions(1024, Duration.ofSeconds(1), 4, Duration.ofMillis(200),
                Duration.ofSeconds(2), Duration.ofMinutes(1));
        Path map1 = bpffs.resolve("node-1/cilium_auth_map");
        Agent node1 = Agent.start(new AgentConfig("node-1", new SourceConfig.Files(endpoints, List.of(policy), Optional.empty()),
                spireConfig.adminSocket(), TD, port, Optional.of(map1), true, Duration.ofMinutes(5), opts,
                Duration.ofSeconds(5), Optional.empty(), Optional.empty()), InstantSource.system());
        cleanup.push(node1);
        Agent node2 = Agent.start(new AgentConfig("node-2", new SourceConfig.Files(endpoints, List.of(policy), Optional.empty()),
                spireConfig.adminSocket(), TD, port, Optional.of(bpffs.resolve("node-2/cilium_auth_map")), false,
                Duration.ofMinutes(5), opts, Duration.ofSeconds(5), Optional.empty(), Optional.empty()), InstantSource.system());
        cleanup.push(node2);
        AuthKey pair = new AuthKey(DEATHSTAR, TIEFIGHTER, 2, AuthType.SPIRE);
        expect(waitFor(() -> present(node1, pair), Duration.ofSeconds(20)),
                "node-1 authenticated (deathstar, tiefighter) ahead of traffic");

        step("The xwing requests landing", """
                curl -XPOST deathstar/v1/request-landing from the xwing. No rule allows org=alliance, so the
                deathstar's datapath drops the packets and the request times out.""");
        Path tie = NetNs.named(net.pod("tiefighter").netns());
        Path xw = NetNs.named(net.pod("xwing").netns());
        String target = net.pod("deathstar").ip();
        expect(Landing.request(xw, target, 2000).isEmpty(), "xwing's request timed out (dropped by policy)");
        var dp = node1.datapath().orElseThrow();
        expect(dp.counters().get(Counter.DROPPED_POLICY) > 0, "the datapath counted policy drops");

        step("The tiefighter requests landing", """
                Same request from the tiefighter. The policy allows it and demands authentication; the pair was
                authenticated before the first packet, so not a single packet is dropped for lack of it.""");
        Optional<String> landed = Landing.request(tie, target, 3000);
        say("   deathstar answered: " + landed.map(String::strip).orElse("(nothing)"));
        expect(landed.map(s -> s.contains("Ship landed")).orElse(false), "Ship landed");
        expect(dp.counters().get(Counter.DROPPED_AUTH) == 0, "zero auth drops");

        step("The auth map", """
                What the kernel enforces: node-1's auth map, as `meshauth bpf auth list` prints it. The entry
                expires with the earlier of the two SVIDs; the agent re-authenticates before then.""");
        out.flush();
        Main.run("bpf", "auth", "list", "--map", map1.toString());
        Map<Counter, Long> c = dp.counters();
        say("   datapath counters: passed=" + c.get(Counter.PASSED) + " dropped_policy=" + c.get(Counter.DROPPED_POLICY)
                + " dropped_auth=" + c.get(Counter.DROPPED_AUTH) + " signals=" + c.get(Counter.SIGNALS_EMITTED));

        step("Revoke the tiefighter's identity", """
                Its SPIRE entry is deleted (the operator reconciles without it). SPIRE stops issuing its SVID, the
                agents drop it, node-1 deletes every auth entry involving it, and its requests fail again.""");
        ManagedChannel ch = UnixSockets.channel(spireConfig.serverSocket(), 32 << 20);
        cleanup.push(() -> ch.shutdownNow());
        new EntryRegistrar(EntryRegistrarStubs.blocking(ch), RegistrationSpec.ciliumDefaults(TD))
                .reconcile(Set.of(DEATHSTAR, XWING));
        expect(waitFor(() -> !present(node1, pair), Duration.ofSeconds(15)), "node-1 removed the entry");
        expect(Landing.request(tie, target, 2000).isEmpty(), "tiefighter's request fails now");

        say("");
        say("All steps behaved as Cilium's mutual-authentication guide says.");
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
