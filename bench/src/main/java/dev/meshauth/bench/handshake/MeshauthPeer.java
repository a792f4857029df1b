package dev.meshauth.bench.handshake;

import dev.meshauth.agent.handshake.HandshakeResult;
import dev.meshauth.agent.handshake.MutualAuthClient;
import dev.meshauth.agent.handshake.MutualAuthServer;
import dev.meshauth.spire.svid.WorkloadSvid;
import io.spiffe.spiffeid.TrustDomain;

import java.lang.management.ManagementFactory;
import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Arrays;
import java.util.HashMap;
import java.util.Map;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.Semaphore;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicReference;

/**
 * meshauth's listener or client as one benchmark peer, with the Go peer's command line
 * (auth-agent/src/test/go/cilium-peer): {@code server -listen ADDR -td TD -ca BUNDLE -svid ID=CERT,KEY} prints
 * "listening ADDR" and serves until killed; {@code client -connect ADDR ... -remote ID -n N -warmup W -c C
 * -server-pid PID} prints the same key=value figures line.
 */
public final class MeshauthPeer {
    private MeshauthPeer() {
    }

    public static void main(String[] args) throws Exception {
        Map<String, String> flags = new HashMap<>();
        Map<Long, WorkloadSvid> svids = new HashMap<>();
        for (int i = 1; i + 1 < args.length; i += 2) {
            if (args[i].equals("-svid")) {
                svids.put(Long.parseLong(args[i + 1].split("=")[0]), Pem.svid(args[i + 1]));
            } else {
                flags.put(args[i], args[i + 1]);
            }
        }
        StaticStore store = new StaticStore(TrustDomain.parse(flags.getOrDefault("-td", "spiffe.cilium")),
                Pem.certificates(Path.of(flags.get("-ca"))), Map.copyOf(svids));
        if (args[0].equals("server")) {
            String[] listen = flags.getOrDefault("-listen", "127.0.0.1:0").split(":");
            try (MutualAuthServer srv = MutualAuthServer.start(new MutualAuthServer.Options(listen[0],
                    Integer.parseInt(listen[1]), Duration.ofSeconds(5), 256), store, InstantSource.system())) {
                System.out.println("listening " + listen[0] + ":" + srv.port());
                new CountDownLatch(1).await();
            }
            return;
        }
        String[] connect = flags.get("-connect").split(":");
        InetSocketAddress peer = new InetSocketAddress(connect[0], Integer.parseInt(connect[1]));
        long local = svids.keySet().iterator().next();
        long remote = Long.parseLong(flags.get("-remote"));
        int conc = Integer.parseInt(flags.getOrDefault("-c", "1"));
        int serverPid = Integer.parseInt(flags.getOrDefault("-server-pid", "0"));
        try (MutualAuthClient cli = new MutualAuthClient(new MutualAuthClient.Options(Duration.ofSeconds(5),
                Duration.ofSeconds(2), 64), store, InstantSource.system())) {
            run(cli, local, remote, peer, conc, Integer.parseInt(flags.getOrDefault("-warmup", "0")));
            var os = (com.sun.management.OperatingSystemMXBean) ManagementFactory.getOperatingSystemMXBean();
            int n = Integer.parseInt(flags.getOrDefault("-n", "1"));
            long cpu0 = os.getProcessCpuTime();
            long srv0 = procCpuNanos(serverPid);
            long t0 = System.nanoTime();
            Run r = run(cli, local, remote, peer, conc, n);
            double secs = (System.nanoTime() - t0) / 1e9;
            long cpu1 = os.getProcessCpuTime();
            long srv1 = procCpuNanos(serverPid);
            StringBuilder line = new StringBuilder(String.format("stack=meshauth handshakes=%d failed=%d seconds=%.3f rate=%.1f"
                    + " client_cpu_us=%.1f", n, r.failed, secs, n / secs, (cpu1 - cpu0) / 1e3 / n));
            if (serverPid > 0) {
                line.append(String.format(" server_cpu_us=%.1f", (srv1 - srv0) / 1e3 / n));
            }
            if (r.last != null) {
                long[] lat = r.latencies;
                line.append(String.format(" p50_us=%d p99_us=%d group=%s cipher=%s peer=%s expiry=%s", lat[lat.length / 2] / 1000,
                        lat[lat.length * 99 / 100] / 1000, r.last.tls().group(), r.last.tls().cipher(), r.last.peerSpiffeId(),
                        r.last.expiresAt()));
            }
            System.out.println(line);
            if (r.failed > 0) {
                System.err.println("meshauth-peer: " + r.failed + " of " + n + " handshakes failed, first: " + r.firstError);
                System.exit(1);
            }
        }
    }

    private record Run(int failed, long[] latencies, HandshakeResult last, Throwable firstError) {
    }

    /** {@code n} handshakes, {@code conc} in flight at once; each one's latency from its start to its result. */
    private static Run run(MutualAuthClient cli, long local, long remote, InetSocketAddress peer, int conc, int n)
            throws InterruptedException {
        long[] lat = new long[n];
        Semaphore slots = new Semaphore(conc);
        AtomicInteger failed = new AtomicInteger();
        AtomicReference<HandshakeResult> last = new AtomicReference<>();
        AtomicReference<Throwable> first = new AtomicReference<>();
        CountDownLatch all = new CountDownLatch(n);
        for (int i = 0; i < n; i++) {
            slots.acquire();
            int slot = i;
            long start = System.nanoTime();
            cli.authenticate(local, remote, peer).whenComplete((ok, err) -> {
                lat[slot] = System.nanoTime() - start;
                if (err != null) {
                    failed.incrementAndGet();
                    first.compareAndSet(null, err);
                } else {
                    last.set(ok);
                }
                slots.release();
                all.countDown();
            });
        }
        all.await();
        Arrays.sort(lat);
        return new Run(failed.get(), lat, last.get(), first.get());
    }

    /** Another process's user and system CPU in nanoseconds, from /proc (10 ms ticks); 0 without a pid. */
    static long procCpuNanos(int pid) {
        if (pid <= 0) {
            return 0;
        }
        try {
            String s = Files.readString(Path.of("/proc/" + pid + "/stat"));
            String[] f = s.substring(s.lastIndexOf(')') + 2).split(" ");
            return (Long.parseLong(f[11]) + Long.parseLong(f[12])) * 10_000_000L;
        } catch (java.io.IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }
}
