package dev.meshauth.bench;

import dev.meshauth.agent.auth.AuthManager;
import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.time.Clocks;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthMapLayout;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.auth.KernelAuthMap;
import dev.meshauth.bpf.map.UpdateFlag;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.Executors;
import java.util.random.RandomGenerator;

/**
 * Restore at agent start (bench/run-restore, root): a pinned auth map with Cilium's layout holding N
 * entries; each repetition is what a starting agent does with it: take the map's lock, open it, read every
 * entry back and fill the auth manager's cache. The anchor in the same run is {@code bpftool map dump} of
 * the same map (the kernel's own reader, printing instead of caching). Argument: N (100000).
 */
public final class RestoreAtStart {
    private RestoreAtStart() {
    }

    public static void main(String[] args) throws Exception {
        int n = args.length > 0 ? Integer.parseInt(args[0]) : 100_000;
        Path dir = Path.of("/sys/fs/bpf/meshauth-bench-restore");
        Path pin = dir.resolve("cilium_auth_map");
        Files.deleteIfExists(pin);
        try (KernelAuthMap map = KernelAuthMap.openOrCreate(pin, AuthMapLayout.DEFAULT_MAX_ENTRIES)) {
            Map<AuthKey, AuthInfo> entries = new HashMap<>();
            AuthInfo info = AuthInfo.expiringAt(Instant.now().plusSeconds(3600));
            for (int i = 0; i < n; i++) {
                entries.put(new AuthKey(256 + i % 5000, 256 + i / 5000, 1 + i % 200, AuthType.SPIRE), info);
            }
            map.putAll(entries, UpdateFlag.ANY);
        }
        long[] restore = new long[7];
        long[] bpftool = new long[7];
        for (int rep = 0; rep < restore.length; rep++) {
            long t0 = System.nanoTime();
            Clocks time = Clocks.system("bench-restore");
            try (var workers = Executors.newVirtualThreadPerTaskExecutor();
                    KernelAuthMap map = KernelAuthMap.openOrCreateExclusive(pin, AuthMapLayout.DEFAULT_MAX_ENTRIES);
                    AuthManager m = new AuthManager(map, (l, r, a) -> CompletableFuture.failedFuture(new IllegalStateException()),
                            id -> Optional.empty(), time, workers, AuthManagerOptions.DEFAULTS, RandomGenerator.getDefault(),
                            e -> { })) {
                restore[rep] = System.nanoTime() - t0;
                if (m.stats().cached() != n) {
                    throw new IllegalStateException("restored " + m.stats().cached() + " of " + n);
                }
            } finally {
                time.scheduler().shutdownNow();
            }
            long b0 = System.nanoTime();
            Process p = new ProcessBuilder("bpftool", "map", "dump", "pinned", pin.toString())
                    .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            if (p.waitFor() != 0) {
                throw new IllegalStateException("bpftool map dump failed");
            }
            bpftool[rep] = System.nanoTime() - b0;
        }
        Files.deleteIfExists(pin);
        Files.deleteIfExists(dir.resolve("meshauth_lock_cilium_auth_map"));
        Files.deleteIfExists(dir);
        System.out.printf("%d entries: restore at start (lock, open, read, cache) %s; anchor bpftool map dump %s%n", n,
                figures(restore), figures(bpftool));
    }

    private static String figures(long[] ns) {
        long[] s = ns.clone();
        Arrays.sort(s);
        return String.format("median %.0f ms [%.0f-%.0f] over %d (first, cold: %.0f ms)", s[s.length / 2] / 1e6, s[0] / 1e6,
                s[s.length - 1] / 1e6, s.length, ns[0] / 1e6);
    }
}
