package dev.meshauth.bench;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.auth.KernelAuthMap;
import dev.meshauth.bpf.datapath.ClockOffset;
import dev.meshauth.bpf.datapath.Datapath;
import dev.meshauth.bpf.datapath.DatapathOptions;
import dev.meshauth.bpf.datapath.Direction;
import dev.meshauth.bpf.datapath.IpcacheEntry;
import dev.meshauth.bpf.datapath.Ipv4Prefix;
import dev.meshauth.bpf.datapath.PolicyKey;
import dev.meshauth.bpf.datapath.PolicyVerdict;
import dev.meshauth.bpf.fs.BpfFs;
import dev.meshauth.bpf.map.UpdateFlag;

import java.nio.ByteBuffer;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.Map;

/**
 * Per-packet cost of the enforcement program, measured by the kernel (BPF_PROG_TEST_RUN, repeat 10^6,
 * average ns per run), with 1, 1k, 100k and 1M entries in the auth map. Paths: an authenticated TCP
 * SYN (ipcache x2, endpoints, policy, auth map, config: the longest pass), and the same pair
 * unauthenticated (drop with a rate-limited signal). Prints min and median of 7 runs.
 *
 * <p>Run: {@code bench/run-datapath} (root).
 */
public final class DatapathPacketCost {
    private static final int REPEAT = 1_000_000;
    private static final int RUNS = 7;

    private DatapathPacketCost() {
    }

    public static void main(String[] args) throws Exception {
        Path root = Files.createTempDirectory("meshauth-bench-bpffs");
        BpfFs.ensureMounted(root);
        try {
            for (int n : new int[] {1, 1_000, 100_000, 1_000_000}) {
                measure(root.resolve("auth_" + n), n);
            }
        } finally {
            BpfFs.unmount(root);
            Files.deleteIfExists(root);
        }
    }

    private static void measure(Path pin, int entries) throws BpfException {
        AuthKey pair = new AuthKey(1000, 2000, 7, AuthType.SPIRE);
        try (KernelAuthMap auth = KernelAuthMap.openOrCreate(pin, 1 << 21);
                Datapath dp = Datapath.create(auth, DatapathOptions.defaults(dev.meshauth.agent.node.PolicyLookupOrder.forDatapath()), new ClockOffset())) {
            AuthInfo valid = AuthInfo.expiringAt(Instant.now().plusSeconds(3600));
            Map<AuthKey, AuthInfo> fill = new LinkedHashMap<>();
            for (int i = 0; fill.size() < entries - 1; i++) {
                fill.put(new AuthKey(10_000 + i / 1000, 20_000 + i % 1000, 1 + i % 100, AuthType.SPIRE), valid);
            }
            auth.putAll(fill, UpdateFlag.ANY);
            dp.putIpcache(Ipv4Prefix.host("198.18.0.10"), new IpcacheEntry(1000, 0));
            dp.putIpcache(Ipv4Prefix.host("198.18.1.20"), new IpcacheEntry(2000, 7));
            dp.setIngressEnforced(1000, true);
            dp.putPolicy(new PolicyKey(1000, 2000, 80, PolicyKey.TCP, Direction.INGRESS),
                    PolicyVerdict.allowWithAuth(AuthType.SPIRE));
            byte[] syn = synFrame();

            String miss = stats(dp, syn);
            auth.put(pair, valid);
            String hit = stats(dp, syn);
            System.out.printf("auth map %9d entries: authenticated pass %s | unauthenticated drop %s%n",
                    auth.entries().size(), hit, miss);
        }
    }

    private static String stats(Datapath dp, byte[] frame) throws BpfException {
        double[] ns = new double[RUNS];
        for (int i = 0; i < RUNS; i++) {
            ns[i] = dp.testRun(frame, REPEAT).durationNs();
        }
        Arrays.sort(ns);
        return String.format("min %3.0f ns, median %3.0f ns", ns[0], ns[RUNS / 2]);
    }

    private static byte[] synFrame() {
        ByteBuffer b = ByteBuffer.allocate(54);
        b.put(new byte[] {2, 0, 0, 0, 0, 1, 2, 0, 0, 0, 0, 2}).putShort((short) 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) 40).putInt(0).put((byte) 64).put((byte) 6).putShort((short) 0);
        b.put(new byte[] {(byte) 198, 18, 1, 20}).put(new byte[] {(byte) 198, 18, 0, 10});
        b.putShort((short) 40000).putShort((short) 80).putInt(1).putInt(0).put((byte) 0x50).put((byte) 2);
        return b.array();
    }

}
