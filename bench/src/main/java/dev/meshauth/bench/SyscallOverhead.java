package dev.meshauth.bench;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthMapLayout;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.auth.UTime;
import dev.meshauth.bpf.map.BpfMap;
import dev.meshauth.bpf.map.UpdateFlag;
import dev.meshauth.bpf.sys.BpfCall;
import dev.meshauth.bpf.sys.BpfCommand;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Arrays;

/**
 * The same loops as bench/c/bpf_baseline.c, from Java through FFM, reported the same way (minimum and
 * median of interleaved rounds), so "FFM adds X% to the syscall" compares like with like on a noisy VM.
 * JMH (AuthMapOpsBench) gives the same operations with its own statistics.
 */
public final class SyscallOverhead {
    private static final int ROUNDS = 15;
    private static final int ITERS = 200_000;
    private static final int WARMUP_ROUNDS = 5;

    private SyscallOverhead() {
    }

    public static void main(String[] args) throws BpfException {
        try (BpfMap map = BpfMap.create(AuthMapLayout.spec(1 << 20)); Arena arena = Arena.ofConfined()) {
            MemorySegment key = arena.allocate(12, 8);
            MemorySegment value = arena.allocate(8, 8);
            AuthInfo info = new AuthInfo(new UTime(1L << 50));
            for (int i = 0; i < 100_000; i++) {
                AuthMapLayout.KEY_CODEC.encode(new AuthKey(256 + i, 1000, 1, AuthType.SPIRE), key, 0);
                AuthMapLayout.VALUE_CODEC.encode(info, value, 0);
                map.update(key, value, UpdateFlag.ANY);
            }
            AuthMapLayout.KEY_CODEC.encode(new AuthKey(256 + 50_000, 1000, 1, AuthType.SPIRE), key, 0);
            double[] bad = new double[ROUNDS];
            double[] look = new double[ROUNDS];
            double[] upd = new double[ROUNDS];
            long sink = 0;
            for (int r = -WARMUP_ROUNDS; r < ROUNDS; r++) {
                long t0 = System.nanoTime();
                for (int i = 0; i < ITERS; i++) {
                    sink += BpfCall.begin(BpfCommand.MAP_LOOKUP_ELEM).putInt(0, -1).putAddress(8, key)
                            .putAddress(16, value).invoke();
                }
                long t1 = System.nanoTime();
                for (int i = 0; i < ITERS; i++) {
                    sink += map.lookup(key, value) ? 1 : 0;
                }
                long t2 = System.nanoTime();
                for (int i = 0; i < ITERS; i++) {
                    map.update(key, value, UpdateFlag.ANY);
                }
                long t3 = System.nanoTime();
                if (r >= 0) {
                    bad[r] = (t1 - t0) / (double) ITERS;
                    look[r] = (t2 - t1) / (double) ITERS;
                    upd[r] = (t3 - t2) / (double) ITERS;
                }
            }
            report("lookup fd -1 (EBADF)", bad);
            report("lookup", look);
            report("update existing", upd);
            if (sink == 42) {
                System.out.println();
            }
        }
    }

    private static void report(String name, double[] r) {
        Arrays.sort(r);
        System.out.printf("java %-22s min %7.1f ns/op  median %7.1f ns/op%n", name, r[0], r[ROUNDS / 2]);
    }
}
