package dev.meshauth.bench.handshake;

import dev.meshauth.spire.devserver.CertificateMinter;
import dev.meshauth.spire.devserver.DevCa;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.net.ServerSocket;
import java.net.Socket;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.KeyPair;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * bench/run-handshake: full mutual TLS 1.3 handshakes, meshauth against Cilium's handler as Go crypto/tls
 * runs it and against openssl, interleaved over repetitions in one run. Every pair is two processes, a
 * server pinned to core 1 and a client pinned to core 0, as two nodes; both load the same ECDSA P-256
 * SVIDs (identity 1000 served, 2000 the client). CPU per handshake is both processes' user and system time
 * over the measured handshakes (the server's read from /proc by the client), after a warm-up.
 *
 * <p>Arguments: {@code GO_PEER JAVA_CMD...}; properties {@code reps} (3), {@code n} (4000), {@code warmup}
 * (20000: the agent runs C2 only, which needs about that many to compile the handshake path), {@code conc}
 * (8), {@code opensslSeconds} (5), {@code pairs} (a regular expression: the pairs to run).
 */
public final class SideBySide {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    private static final Pattern KV = Pattern.compile("(\\w+)=(\\S+)");

    private SideBySide() {
    }

    /** One measured run of one pair. */
    record Figures(double rate, double clientCpuUs, double serverCpuUs, String p50Us, String p99Us, String group,
            String cipher) {
        double cpuUs() {
            return clientCpuUs + serverCpuUs;
        }
    }

    /** A pair: how to start its server and its client. */
    private record Pair(String name, List<String> server, List<String> client) {
    }

    public static void main(String[] args) throws Exception {
        Path goPeer = Path.of(args[0]);
        List<String> java = List.of(Arrays.copyOfRange(args, 1, args.length));
        int reps = Integer.getInteger("reps", 3);
        int n = Integer.getInteger("n", 4000);
        int warmup = Integer.getInteger("warmup", 20000);
        int conc = Integer.getInteger("conc", 8);
        int opensslSeconds = Integer.getInteger("opensslSeconds", 5);
        Path dir = Files.createTempDirectory("meshauth-handshake-bench");
        try {
            DevCa ca = DevCa.create(TD, Instant.now().minusSeconds(60));
            Path bundle = Files.writeString(dir.resolve("bundle.pem"), pemCert(ca.certificate()));
            String serverSvid = writeSvid(dir, ca, 1000);
            String clientSvid = writeSvid(dir, ca, 2000);
            List<String> common = List.of("-td", TD.getName(), "-ca", bundle.toString());
            List<String> server = cat(common, List.of("-svid", serverSvid));
            List<String> client = cat(common, List.of("-svid", clientSvid, "-remote", "1000", "-n", Integer.toString(n),
                    "-warmup", Integer.toString(warmup), "-c", Integer.toString(conc)));
            List<String> mesh = cat(java, List.of(MeshauthPeer.class.getName()));
            List<String> hybrid = cat(java.subList(0, 1), List.of("-Dmeshauth.tls.groups=X25519MLKEM768:X25519:P-256:P-384"),
                    java.subList(1, java.size()), List.of(MeshauthPeer.class.getName()));
            List<Pair> pairs = List.of(
                    new Pair("meshauth <-> meshauth", cat(mesh, List.of("server"), server), cat(mesh, List.of("client"), client)),
                    new Pair("Go <-> Go (Cilium's handler)", cat(List.of(goPeer.toString(), "server"), server),
                            cat(List.of(goPeer.toString(), "client"), client)),
                    new Pair("meshauth client -> Go server", cat(List.of(goPeer.toString(), "server"), server),
                            cat(mesh, List.of("client"), client)),
                    new Pair("Go client -> meshauth server", cat(mesh, List.of("server"), server),
                            cat(List.of(goPeer.toString(), "client"), client)),
                    new Pair("meshauth <-> meshauth, X25519MLKEM768 first (before)", cat(hybrid, List.of("server"), server),
                            cat(hybrid, List.of("client"), client)),
                    new Pair("Go <-> Go, X25519 first (Go tuned as meshauth)", cat(List.of(goPeer.toString(), "server"), server,
                            List.of("-groups", "x25519")), cat(List.of(goPeer.toString(), "client"), client, List.of("-groups", "x25519"))));
            Pattern only = Pattern.compile(System.getProperty("pairs", ".*"));
            pairs = pairs.stream().filter(p -> only.matcher(p.name()).find()).toList();
            Map<String, List<Figures>> results = new LinkedHashMap<>();
            String openssl = "openssl s_server <- s_time (1 concurrent)";
            for (int rep = 1; rep <= reps; rep++) {
                for (Pair p : pairs) {
                    Figures f = measure(p);
                    results.computeIfAbsent(p.name(), k -> new ArrayList<>()).add(f);
                    System.out.printf("rep %d  %-52s %7.0f/s  CPU %4.0f us (client %4.0f, server %4.0f)  p50 %s us, p99 %s us  %s %s%n",
                            rep, p.name(), f.rate(), f.cpuUs(), f.clientCpuUs(), f.serverCpuUs(), f.p50Us(), f.p99Us(),
                            f.group(), f.cipher());
                }
                if (!only.matcher(openssl).find()) {
                    continue;
                }
                Figures f = openssl(dir, opensslSeconds);
                results.computeIfAbsent(openssl, k -> new ArrayList<>()).add(f);
                System.out.printf("rep %d  %-52s %7.0f/s  CPU %4.0f us (client %4.0f, server %4.0f)  %s %s%n", rep, openssl,
                        f.rate(), f.cpuUs(), f.clientCpuUs(), f.serverCpuUs(), f.group(), f.cipher());
            }
            summary(results, reps, n, warmup, conc);
        } finally {
            try (var files = Files.list(dir)) {
                for (Path f : files.toList()) {
                    Files.delete(f);
                }
            }
            Files.delete(dir);
        }
    }

    @SafeVarargs
    private static List<String> cat(List<String>... parts) {
        List<String> out = new ArrayList<>();
        for (List<String> p : parts) {
            out.addAll(p);
        }
        return out;
    }

    private static String writeSvid(Path dir, DevCa ca, long id) throws IOException {
        KeyPair kp = CertificateMinter.newKeyPair();
        var cert = ca.issue(SpiffeId.parse("spiffe://spiffe.cilium/identity/" + id), kp.getPublic(), Instant.now(),
                Duration.ofHours(2));
        Path c = Files.writeString(dir.resolve(id + ".pem"), pemCert(cert));
        Path k = Files.writeString(dir.resolve(id + ".key"), Pem.encode("PRIVATE KEY", kp.getPrivate().getEncoded()));
        return id + "=" + c + "," + k;
    }

    private static String pemCert(java.security.cert.X509Certificate c) {
        try {
            return Pem.encode("CERTIFICATE", c.getEncoded());
        } catch (java.security.cert.CertificateEncodingException e) {
            throw new IllegalStateException(e);
        }
    }

    private static List<String> pinned(int core, List<String> cmd) {
        return cat(List.of("taskset", "-c", Integer.toString(core)), cmd);
    }

    /** Starts the pair's server on core 1, runs its client on core 0, returns the client's figures. */
    private static Figures measure(Pair p) throws Exception {
        Process server = new ProcessBuilder(pinned(1, p.server())).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            String first = new BufferedReader(new InputStreamReader(server.getInputStream(), StandardCharsets.UTF_8)).readLine();
            if (first == null || !first.startsWith("listening ")) {
                throw new IllegalStateException(p.name() + ": the server did not start: " + first);
            }
            String addr = first.substring("listening ".length());
            Process client = new ProcessBuilder(pinned(0, cat(p.client(), List.of("-connect", addr, "-server-pid",
                    Long.toString(server.pid()))))).redirectError(ProcessBuilder.Redirect.INHERIT).start();
            String out = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            if (client.waitFor() != 0) {
                throw new IllegalStateException(p.name() + ": the client failed: " + out);
            }
            Map<String, String> kv = new LinkedHashMap<>();
            Matcher m = KV.matcher(out);
            while (m.find()) {
                kv.put(m.group(1), m.group(2));
            }
            return new Figures(Double.parseDouble(kv.get("rate")), Double.parseDouble(kv.get("client_cpu_us")),
                    Double.parseDouble(kv.get("server_cpu_us")), kv.get("p50_us"), kv.get("p99_us"), kv.get("group"),
                    kv.get("cipher"));
        } finally {
            server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    /**
     * openssl s_server and s_time with the same SVIDs (TLS 1.3, a required and verified client certificate),
     * s_time opening a new session per connection, one at a time; its CPU is what its shell waited for.
     */
    private static Figures openssl(Path dir, int seconds) throws Exception {
        int port;
        try (ServerSocket s = new ServerSocket(0)) {
            port = s.getLocalPort();
        }
        String addr = "127.0.0.1:" + port;
        List<String> certs = List.of("-cert", dir.resolve("2000.pem").toString(), "-key", dir.resolve("2000.key").toString(),
                "-CAfile", dir.resolve("bundle.pem").toString());
        Process server = new ProcessBuilder(pinned(1, List.of("openssl", "s_server", "-accept", addr, "-tls1_3", "-cert",
                dir.resolve("1000.pem").toString(), "-key", dir.resolve("1000.key").toString(), "-CAfile",
                dir.resolve("bundle.pem").toString(), "-Verify", "1", "-naccept", "10000000", "-quiet")))
                .redirectOutput(ProcessBuilder.Redirect.DISCARD).redirectError(ProcessBuilder.Redirect.DISCARD).start();
        try {
            for (int i = 0; ; i++) {
                try (Socket s = new Socket("127.0.0.1", port)) {
                    break;
                } catch (IOException e) {
                    if (i > 100) {
                        throw new IllegalStateException("openssl s_server did not listen on " + addr);
                    }
                    Thread.sleep(50);
                }
            }
            Process probe = new ProcessBuilder(cat(List.of("openssl", "s_client", "-connect", addr, "-tls1_3", "-brief",
                    "-servername", "1000.spiffe.cilium"), certs)).redirectErrorStream(true).start();
            probe.getOutputStream().close();
            String brief = new String(probe.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            probe.waitFor();
            String group = find(brief, "(?:Negotiated TLS1.3 group|Server Temp Key): (\\S+?),?\\s");
            String cipher = find(brief, "Ciphersuite: (\\S+)");
            long srv0 = MeshauthPeer.procCpuNanos((int) server.pid());
            String sTime = String.join(" ", cat(List.of("openssl", "s_time", "-connect", addr, "-new", "-time",
                    Integer.toString(seconds)), certs));
            Process client = new ProcessBuilder(pinned(0, List.of("sh", "-c", sTime + " 2>/dev/null; cat /proc/$$/stat"))).start();
            String out = new String(client.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
            client.waitFor();
            long srv1 = MeshauthPeer.procCpuNanos((int) server.pid());
            Matcher conn = Pattern.compile("(\\d+) connections in ([\\d.]+)s").matcher(out);
            if (!conn.find()) {
                throw new IllegalStateException("openssl s_time printed no count: " + out);
            }
            long count = Long.parseLong(conn.group(1));
            double secs = Double.parseDouble(conn.group(2));
            String stat = out.substring(out.lastIndexOf(')') + 2).strip();
            String[] f = stat.split(" ");
            long childTicks = Long.parseLong(f[13]) + Long.parseLong(f[14]); // cutime, cstime
            return new Figures(count / secs, childTicks * 10_000.0 / count, (srv1 - srv0) / 1e3 / count, "n/a", "n/a", group, cipher);
        } finally {
            server.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }

    private static String find(String text, String regex) {
        Matcher m = Pattern.compile(regex).matcher(text);
        return m.find() ? m.group(1) : "?";
    }

    private static void summary(Map<String, List<Figures>> results, int reps, int n, int warmup, int conc) {
        List<Figures> go = results.get("Go <-> Go (Cilium's handler)");
        double goCpu = go == null ? Double.NaN : median(go.stream().mapToDouble(Figures::cpuUs).toArray());
        System.out.printf("%nMedian [range] of %d repetitions; %d measured handshakes after %d of warm-up, %d concurrent"
                + " (openssl: one at a time); CPU is both processes, in microseconds per handshake.%n%n", reps, n, warmup, conc);
        System.out.println("| pair | handshakes/s | CPU µs, both sides | client | server | p50 / p99 µs | group, cipher | CPU vs Go |");
        System.out.println("|---|---|---|---|---|---|---|---|");
        results.forEach((name, fs) -> {
            double[] cpu = fs.stream().mapToDouble(Figures::cpuUs).toArray();
            Figures last = fs.getLast();
            System.out.printf("| %s | %s | %s | %s | %s | %s / %s | %s, %s | %.2fx |%n", name,
                    range(fs.stream().mapToDouble(Figures::rate).toArray()), range(cpu),
                    range(fs.stream().mapToDouble(Figures::clientCpuUs).toArray()),
                    range(fs.stream().mapToDouble(Figures::serverCpuUs).toArray()),
                    medianText(fs.stream().map(Figures::p50Us).toList()), medianText(fs.stream().map(Figures::p99Us).toList()),
                    last.group(), last.cipher(), median(cpu) / goCpu);
        });
    }

    private static double median(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return s.length % 2 == 1 ? s[s.length / 2] : (s[s.length / 2 - 1] + s[s.length / 2]) / 2;
    }

    private static String range(double[] v) {
        double[] s = v.clone();
        Arrays.sort(s);
        return String.format("%.0f [%.0f-%.0f]", median(s), s[0], s[s.length - 1]);
    }

    private static String medianText(List<String> v) {
        if (v.contains("n/a") || v.contains(null)) {
            return "n/a";
        }
        return String.format("%.0f", median(v.stream().mapToDouble(Double::parseDouble).toArray()));
    }
}
