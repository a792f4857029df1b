package dev.meshauth.bench;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.asm.Assembler;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.auth.KernelAuthMap;
import dev.meshauth.bpf.datapath.ClockOffset;
import dev.meshauth.bpf.datapath.ConntrackTimeouts;
import dev.meshauth.bpf.datapath.Datapath;
import dev.meshauth.bpf.datapath.DatapathOptions;
import dev.meshauth.bpf.datapath.Direction;
import dev.meshauth.bpf.datapath.EndpointPolicy;
import dev.meshauth.bpf.datapath.IpPrefix;
import dev.meshauth.bpf.datapath.IpcacheEntry;
import dev.meshauth.bpf.datapath.PolicyKey;
import dev.meshauth.bpf.datapath.PolicyVerdict;
import dev.meshauth.bpf.datapath.Role;
import dev.meshauth.bpf.fs.BpfFs;
import dev.meshauth.bpf.map.UpdateFlag;
import dev.meshauth.bpf.prog.BpfProgram;
import dev.meshauth.bpf.prog.ProgramType;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

import static dev.meshauth.bpf.asm.Reg.R0;

/**
 * Per-packet cost of the enforcement program (TO_ENDPOINT, the destination's ingress policy), measured by
 * the kernel (BPF_PROG_TEST_RUN, repeat 10^6, average ns per run), with 1, 1k, 100k and 1M entries in the
 * auth map, beside an empty program in the same run (the test-run's own cost). Paths:
 * <ul>
 *   <li>established: a packet of a tracked connection (parse, ipcache x2, endpoints, one conntrack hit);</li>
 *   <li>new, authenticated: the longest pass (parse, ipcache x2, endpoints, conntrack miss both ways, policy,
 *       auth map, config, conntrack write). The same frame repeated would hit the entry it created, so this
 *       datapath tracks with 1 ns timeouts: every run finds its entry expired and takes the new path;</li>
 *   <li>unauthenticated drop: as new, with the auth map miss, the rate-limit LRU and a suppressed signal.</li>
 * </ul>
 * Prints min and median of 7 runs. Then, with repeat 1 (one packet per test run, so each has its own
 * tuple), a new connection that inserts its conntrack entry, beside the empty program and the
 * established path measured the same way (median and p99 of 20,000 single runs).
 *
 * <p>Run: {@code bench/run-datapath} (root).
 */
public final class DatapathPacketCost {
    private static final int REPEAT = 1_000_000;
    private static final int RUNS = 7;
    private static final ConntrackTimeouts EXPIRE_AT_ONCE = new ConntrackTimeouts(Duration.ofNanos(1), Duration.ofNanos(1),
            Duration.ofNanos(1), Duration.ofNanos(1));

    private DatapathPacketCost() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Files.createTempDirectory("meshauth-bench-bpffs");
        BpfFs.ensureMounted(root);
        try {
            try (BpfProgram empty = BpfProgram.load("empty", ProgramType.SCHED_CLS,
                    new Assembler().mov(R0, 0).exit().build(), Map.of())) {
                double[] ns = new double[RUNS];
                for (int i = 0; i < RUNS; i++) {
                    ns[i] = empty.testRun(synFrame(), REPEAT).durationNs();
                }
                Arrays.sort(ns);
                System.out.printf("empty SCHED_CLS program (the test run's own cost): min %3.0f ns, median %3.0f ns%n",
                        ns[0], ns[RUNS / 2]);
            }
            singleRuns(root.resolve("auth_single"));
            for (int n : Integer.getInteger("meshauth.bench.maxEntries", 1_000_000) == 1 ? new int[] {1} : new int[] {1, 1_000, 100_000, 1_000_000}) {
                measure(root.resolve("auth_" + n), n);
            }
        } finally {
            BpfFs.unmount(root);
            Files.deleteIfExists(root);
        }
    }

    private static Datapath datapath(KernelAuthMap auth, ConntrackTimeouts timeouts) throws BpfException {
        Datapath dp = Datapath.create(auth, DatapathOptions.defaults(dev.meshauth.agent.node.PolicyLookupOrder.forDatapath())
                .withConntrack(DatapathOptions.DEFAULT_CONNTRACK_ENTRIES, timeouts), new ClockOffset());
        dp.putIpcache(IpPrefix.host("198.18.0.10"), new IpcacheEntry(1000, 0));
        dp.putIpcache(IpPrefix.host("198.18.1.20"), new IpcacheEntry(2000, 7));
        dp.setEndpointPolicy(1000, EndpointPolicy.ingressDefaultDeny());
        dp.putPolicy(PolicyKey.port(1000, 2000, PolicyKey.TCP, 80, Direction.INGRESS), PolicyVerdict.allowWithAuth(AuthType.SPIRE));
        // A realistic neighbourhood in the LPM trie: ranges for other peers and protocols.
        dp.putPolicy(new PolicyKey(1000, 2000, PolicyKey.TCP, 8192, 3, Direction.INGRESS), PolicyVerdict.ALLOW);
        dp.putPolicy(PolicyKey.port(1000, 0, PolicyKey.UDP, 53, Direction.INGRESS), PolicyVerdict.ALLOW);
        return dp;
    }

    private static void measure(Path pin, int entries) throws BpfException {
        AuthKey pair = new AuthKey(1000, 2000, 7, AuthType.SPIRE);
        try (KernelAuthMap auth = KernelAuthMap.openOrCreate(pin, 1 << 21);
                Datapath tracked = datapath(auth, ConntrackTimeouts.DEFAULTS);
                Datapath fresh = datapath(auth, EXPIRE_AT_ONCE)) {
            AuthInfo valid = AuthInfo.expiringAt(Instant.now().plusSeconds(3600));
            Map<AuthKey, AuthInfo> fill = new LinkedHashMap<>();
            for (int i = 0; fill.size() < entries - 1; i++) {
                fill.put(new AuthKey(10_000 + i / 1000, 20_000 + i % 1000, 1 + i % 100, AuthType.SPIRE), valid);
            }
            auth.putAll(fill, UpdateFlag.ANY);
            byte[] syn = synFrame();

            String drop = stats(fresh, syn);
            auth.put(pair, valid);
            String newPass = stats(fresh, syn);
            tracked.testRun(Role.TO_ENDPOINT, syn, 1); // the connection's first packet: tracked from now on
            String established = stats(tracked, syn);
            System.out.printf("auth map %9d entries: established %s | new, authenticated %s | unauthenticated drop %s%n",
                    auth.entries().size(), established, newPass, drop);
        }
    }

    /** One packet per test run: a new tuple each time (a real insert), against the same path tracked and the empty program. */
    private static void singleRuns(Path pin) throws BpfException {
        int n = 20_000;
        try (KernelAuthMap auth = KernelAuthMap.openOrCreate(pin, 1024);
                Datapath dp = datapath(auth, ConntrackTimeouts.DEFAULTS);
                BpfProgram empty = BpfProgram.load("empty", ProgramType.SCHED_CLS,
                        new Assembler().mov(R0, 0).exit().build(), Map.of())) {
            auth.put(new AuthKey(1000, 2000, 7, AuthType.SPIRE), AuthInfo.expiringAt(Instant.now().plusSeconds(3600)));
            double[] fresh = new double[n];
            double[] established = new double[n];
            double[] none = new double[n];
            for (int i = 0; i < n; i++) {
                byte[] f = synFrame(10_000 + i);
                fresh[i] = dp.testRun(Role.TO_ENDPOINT, f, 1).durationNs();
                established[i] = dp.testRun(Role.TO_ENDPOINT, f, 1).durationNs();
                none[i] = empty.testRun(f, 1).durationNs();
            }
            System.out.printf("one packet per run: empty program %s | established %s | new connection, insert %s%n",
                    percentiles(none), percentiles(established), percentiles(fresh));
        }
    }

    private static String percentiles(double[] ns) {
        double[] s = ns.clone();
        Arrays.sort(s);
        return String.format("median %3.0f ns, p99 %3.0f ns", s[s.length / 2], s[s.length * 99 / 100]);
    }

    private static String stats(Datapath dp, byte[] frame) throws BpfException {
        double[] ns = new double[RUNS];
        for (int i = 0; i < RUNS; i++) {
            ns[i] = dp.testRun(Role.TO_ENDPOINT, frame, REPEAT).durationNs();
        }
        Arrays.sort(ns);
        return String.format("min %3.0f ns, median %3.0f ns", ns[0], ns[RUNS / 2]);
    }

    private static byte[] synFrame() {
        return synFrame(40000);
    }

    private static byte[] synFrame(int sport) {
        ByteBuffer b = ByteBuffer.allocate(54);
        b.put(new byte[] {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) 40).putInt(0).put((byte) 64).put((byte) 6).putShort((short) 0);
        b.put(new byte[] {(byte) 198, 18, 1, 20}).put(new byte[] {(byte) 198, 18, 0, 10});
        b.putShort((short) sport).putShort((short) 80).putInt(1).putInt(0).put((byte) 0x50).put((byte) 2);
        return b.array();
    }
}
