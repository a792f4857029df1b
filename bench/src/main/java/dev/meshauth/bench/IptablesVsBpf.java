package dev.meshauth.bench;

import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.auth.KernelAuthMap;
import dev.meshauth.bpf.datapath.ClockOffset;
import dev.meshauth.bpf.datapath.Datapath;
import dev.meshauth.bpf.datapath.DatapathOptions;
import dev.meshauth.bpf.datapath.Direction;
import dev.meshauth.bpf.datapath.IpcacheEntry;
import dev.meshauth.bpf.datapath.EndpointPolicy;
import dev.meshauth.bpf.datapath.IpPrefix;
import dev.meshauth.bpf.datapath.PolicyKey;
import dev.meshauth.bpf.datapath.PolicyVerdict;
import dev.meshauth.bpf.fs.BpfFs;
import dev.meshauth.bpf.link.NetNs;
import dev.meshauth.bpf.map.UpdateFlag;
import dev.meshauth.bpf.testing.TestNetwork;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.nio.channels.DatagramChannel;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The seed claim, measured: iptables evaluates its rules one by one (O(n)), a BPF hash lookup is O(1).
 * UDP ping-pong between two namespaces over a veth pair; the server's side filters either with N
 * non-matching iptables rules in INPUT (nft and legacy back ends) or with our program attached by tcx
 * and N entries in the auth map (the measured pair authenticated, so every request does the full lookup
 * chain). Prints median and p99 round-trip time per configuration.
 *
 * <p>Run: {@code bench/run-datapath} (root; installs iptables).
 */
public final class IptablesVsBpf {
    private static final int PORT = 9999;
    private static final int WARMUP = 5_000;
    private static final int ROUND_TRIPS = 50_000;
    private static final int[] SIZES = {0, 1_000, 10_000, 50_000};

    private IptablesVsBpf() {
    }

    public static void main(String[] args) throws Exception {
        try (TestNetwork net = TestNetwork.create("bn", 60)) {
            Thread echo = startEcho(net);
            try (DatagramChannel client = NetNs.run(Optional.of(net.nsA()), () -> {
                DatagramChannel c = DatagramChannel.open();
                c.connect(new InetSocketAddress(net.addrB(), PORT));
                return c;
            })) {
                System.out.printf("%-28s %8s %12s %12s%n", "filter", "N", "median RTT", "p99 RTT");
                report("none", 0, client);
                for (String backend : List.of("iptables-nft", "iptables-legacy")) {
                    for (int n : SIZES) {
                        if (n == 0) {
                            continue;
                        }
                        loadRules(net, backend, n);
                        report(backend + " (INPUT rules)", n, client);
                        flushRules(net, backend);
                    }
                }
                bpf(net, client);
            }
            echo.interrupt();
        }
    }

    private static void bpf(TestNetwork net, DatagramChannel client) throws Exception {
        Path root = Files.createTempDirectory("meshauth-bench-bpffs");
        BpfFs.ensureMounted(root);
        try (KernelAuthMap auth = KernelAuthMap.openOrCreate(root.resolve("auth"), 1 << 21);
                Datapath dp = Datapath.create(auth, DatapathOptions.defaults(dev.meshauth.agent.node.PolicyLookupOrder.forDatapath()), new ClockOffset())) {
            AuthKey pair = new AuthKey(1000, 2000, 7, AuthType.SPIRE);
            AuthInfo valid = AuthInfo.expiringAt(Instant.now().plusSeconds(3600));
            auth.put(pair, valid);
            dp.putIpcache(IpPrefix.host(net.addrB()), new IpcacheEntry(1000, 0));
            dp.putIpcache(IpPrefix.host(net.addrA()), new IpcacheEntry(2000, 7));
            dp.setEndpointPolicy(1000, EndpointPolicy.ingressDefaultDeny());
            dp.putPolicy(PolicyKey.port(1000, 2000, PolicyKey.UDP, PORT, Direction.INGRESS),
                    PolicyVerdict.allowWithAuth(AuthType.SPIRE));
            dp.attachToEndpoint(net.ifB(), Optional.of(net.nsB()));
            int filled = 1;
            for (int n : new int[] {1, 1_000, 10_000, 50_000, 1_000_000}) {
                Map<AuthKey, AuthInfo> more = new LinkedHashMap<>();
                for (int i = filled; i < n; i++) {
                    more.put(new AuthKey(10_000 + i / 1000, 20_000 + i % 1000, 1 + i % 100, AuthType.SPIRE), valid);
                }
                auth.putAll(more, UpdateFlag.ANY);
                filled = n;
                report("meshauth tcx (auth map)", n, client);
            }
        } finally {
            BpfFs.unmount(root);
            Files.deleteIfExists(root);
        }
    }

    private static Thread startEcho(TestNetwork net) throws Exception {
        DatagramChannel server = NetNs.run(Optional.of(net.nsB()), () -> {
            DatagramChannel s = DatagramChannel.open();
            s.bind(new InetSocketAddress(net.addrB(), PORT));
            return s;
        });
        return Thread.ofPlatform().daemon().start(() -> {
            ByteBuffer buf = ByteBuffer.allocateDirect(64);
            try (server) {
                while (!Thread.currentThread().isInterrupted()) {
                    buf.clear();
                    var from = server.receive(buf);
                    buf.flip();
                    server.send(buf, from);
                }
            } catch (IOException e) {
                // closed at exit
            }
        });
    }

    private static void report(String filter, int n, DatagramChannel client) throws IOException {
        ByteBuffer out = ByteBuffer.allocateDirect(1);
        ByteBuffer in = ByteBuffer.allocateDirect(64);
        long[] rtt = new long[ROUND_TRIPS];
        for (int i = -WARMUP; i < ROUND_TRIPS; i++) {
            out.clear();
            out.put((byte) 1).flip();
            in.clear();
            long t0 = System.nanoTime();
            client.write(out);
            client.read(in);
            long t1 = System.nanoTime();
            if (i >= 0) {
                rtt[i] = t1 - t0;
            }
        }
        Arrays.sort(rtt);
        System.out.printf("%-28s %8d %9.2f us %9.2f us%n", filter, n, rtt[ROUND_TRIPS / 2] / 1000.0,
                rtt[ROUND_TRIPS * 99 / 100] / 1000.0);
    }

    private static void loadRules(TestNetwork net, String backend, int n) throws Exception {
        StringBuilder rules = new StringBuilder("*filter\n:INPUT ACCEPT [0:0]\n");
        for (int i = 0; i < n; i++) {
            // 198.19.0.0/16: benchmark space, never the peer; only rule matching cost is measured
            rules.append("-A INPUT -s 198.19.").append(i / 250).append('.').append(i % 250 + 1)
                    .append("/32 -p udp --dport 9 -j DROP\n");
        }
        rules.append("COMMIT\n");
        exec(net, List.of(backend + "-restore"), rules.toString());
    }

    private static void flushRules(TestNetwork net, String backend) throws Exception {
        exec(net, List.of(backend, "-F", "INPUT"), "");
    }

    private static void exec(TestNetwork net, List<String> cmd, String stdin) throws Exception {
        List<String> full = new java.util.ArrayList<>(List.of("ip", "netns", "exec", net.nsB().getFileName().toString()));
        full.addAll(cmd);
        Process p = new ProcessBuilder(full).redirectErrorStream(true).start();
        p.getOutputStream().write(stdin.getBytes(StandardCharsets.UTF_8));
        p.getOutputStream().close();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(120, TimeUnit.SECONDS) || p.exitValue() != 0) {
            throw new IOException(String.join(" ", full) + " failed: " + out);
        }
    }
}
