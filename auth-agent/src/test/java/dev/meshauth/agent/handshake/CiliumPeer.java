package dev.meshauth.agent.handshake;

import dev.meshauth.spire.svid.WorkloadSvid;
import org.junit.jupiter.api.Assumptions;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.util.ArrayList;
import java.util.Base64;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;
import java.util.stream.Stream;

/**
 * The Go crypto/tls peer shaped like Cilium's mutual-auth handler (auth-agent/src/test/go/cilium-peer),
 * built with the machine's Go into target/ on first use. Without Go a test skips, naming why; under
 * {@code CI=true} it fails instead.
 */
final class CiliumPeer {
    static final Path SOURCE = Path.of("src/test/go/cilium-peer").toAbsolutePath();
    private static Path binary;

    private CiliumPeer() {
    }

    /** The built binary. */
    static synchronized Path binary() throws IOException, InterruptedException {
        if (binary != null) {
            return binary;
        }
        Path go = Stream.of((System.getenv("PATH") + ":/usr/local/go/bin").split(":"))
                .map(d -> Path.of(d.isEmpty() ? "." : d, "go")).filter(Files::isExecutable).findFirst().orElse(null);
        if (go == null) {
            String why = "no Go toolchain on PATH or in /usr/local/go/bin: the Cilium-shaped Go peer cannot be built";
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError(why);
            }
            Assumptions.abort(why);
        }
        Path out = Path.of("target/cilium-peer").toAbsolutePath();
        Process p = new ProcessBuilder(go.toString(), "build", "-o", out.toString(), ".").directory(SOURCE.toFile())
                .redirectErrorStream(true).start();
        String log = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(5, TimeUnit.MINUTES) || p.exitValue() != 0) {
            throw new AssertionError("go build of " + SOURCE + " failed:\n" + log);
        }
        binary = out;
        return out;
    }

    /** Writes {@code svid}'s chain and key as PEM under {@code dir}; the {@code -svid} flag's value. */
    static String svidFlag(Path dir, long identity, WorkloadSvid svid) throws Exception {
        StringBuilder chain = new StringBuilder();
        for (X509Certificate c : svid.chain()) {
            chain.append(pem("CERTIFICATE", c.getEncoded()));
        }
        Path cert = Files.writeString(dir.resolve(identity + "-" + svid.serial() + ".pem"), chain);
        Path key = Files.writeString(dir.resolve(identity + "-" + svid.serial() + ".key"), pem("PRIVATE KEY", svid.key().getEncoded()));
        return identity + "=" + cert + "," + key;
    }

    static Path bundle(Path dir, List<X509Certificate> roots) throws Exception {
        StringBuilder b = new StringBuilder();
        for (X509Certificate c : roots) {
            b.append(pem("CERTIFICATE", c.getEncoded()));
        }
        return Files.writeString(dir.resolve("bundle.pem"), b);
    }

    static String pem(String type, byte[] der) {
        return "-----BEGIN " + type + "-----\n" + Base64.getMimeEncoder(64, "\n".getBytes(StandardCharsets.US_ASCII))
                .encodeToString(der) + "\n-----END " + type + "-----\n";
    }

    /** A client run: its exit code, its figures line as key=value pairs, and its stderr. */
    record ClientRun(int exit, Map<String, String> figures, String err) {
    }

    static ClientRun client(List<String> args) throws Exception {
        List<String> cmd = new ArrayList<>(List.of(binary().toString(), "client"));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).start();
        p.getOutputStream().close();
        var err = java.util.concurrent.CompletableFuture.supplyAsync(() -> read(p.getErrorStream()));
        String out = read(p.getInputStream());
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new AssertionError("cilium-peer client did not finish in 60 s");
        }
        Map<String, String> figures = new LinkedHashMap<>();
        for (String kv : out.strip().split(" ")) {
            int eq = kv.indexOf('=');
            if (eq > 0) {
                figures.put(kv.substring(0, eq), kv.substring(eq + 1));
            }
        }
        return new ClientRun(p.exitValue(), figures, err.join());
    }

    private static String read(java.io.InputStream in) {
        try {
            return new String(in.readAllBytes(), StandardCharsets.UTF_8);
        } catch (IOException e) {
            throw new java.io.UncheckedIOException(e);
        }
    }

    /** A running server: its port, and the lines it logged per handshake ({@code -v}). */
    static final class Server implements AutoCloseable {
        private final Process process;
        final int port;
        final List<String> log = java.util.Collections.synchronizedList(new ArrayList<>());

        Server(List<String> args) throws Exception {
            List<String> cmd = new ArrayList<>(List.of(binary().toString(), "server", "-v", "-listen", "127.0.0.1:0"));
            cmd.addAll(args);
            process = new ProcessBuilder(cmd).start();
            BufferedReader out = new BufferedReader(new InputStreamReader(process.getInputStream(), StandardCharsets.UTF_8));
            String first = out.readLine();
            if (first == null || !first.startsWith("listening ")) {
                process.destroyForcibly();
                throw new AssertionError("cilium-peer server did not start: " + first + " " + read(process.getErrorStream()));
            }
            port = Integer.parseInt(first.substring(first.lastIndexOf(':') + 1));
            Thread.ofVirtual().start(() -> {
                try (BufferedReader err = new BufferedReader(new InputStreamReader(process.getErrorStream(),
                        StandardCharsets.UTF_8))) {
                    for (String line; (line = err.readLine()) != null; ) {
                        log.add(line);
                    }
                } catch (IOException e) {
                    // the process ended
                }
            });
        }

        @Override
        public void close() throws InterruptedException {
            process.destroyForcibly().waitFor(10, TimeUnit.SECONDS);
        }
    }
}
