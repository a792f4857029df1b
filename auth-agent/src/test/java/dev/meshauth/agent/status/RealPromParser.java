package dev.meshauth.agent.status;

import org.junit.jupiter.api.Assumptions;

import java.io.IOException;
import java.io.OutputStream;
import java.net.URISyntaxException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.TimeUnit;

/**
 * The Prometheus text format checked by a parser we did not write: the {@code prometheus_client} Python
 * package's ({@code promcheck.py}). Python comes from {@code MESHAUTH_PYTHON} (set by {@code .ci/run}, a
 * venv with the pinned package), else {@code .cache/python}, else {@code python3}. Without the package a
 * test skips, naming what to install; under {@code CI=true} it fails instead.
 */
final class RealPromParser {
    private RealPromParser() {
    }

    private static String python() {
        String env = System.getenv("MESHAUTH_PYTHON");
        if (env != null && !env.isBlank()) {
            return env;
        }
        Path venv = Path.of("..", ".cache", "python", "bin", "python").toAbsolutePath().normalize();
        return Files.isExecutable(venv) ? venv.toString() : "python3";
    }

    /** Family name to "TYPE SAMPLES", as prometheus_client parsed {@code text}. */
    static Map<String, String> families(String text) throws IOException, InterruptedException, URISyntaxException {
        Path script = Path.of(RealPromParser.class.getResource("/promcheck.py").toURI());
        Process p = new ProcessBuilder(python(), script.toString()).start();
        try (OutputStream in = p.getOutputStream()) {
            in.write(text.getBytes(StandardCharsets.UTF_8));
        }
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        String err = new String(p.getErrorStream().readAllBytes(), StandardCharsets.UTF_8);
        if (!p.waitFor(60, TimeUnit.SECONDS)) {
            p.destroyForcibly();
            throw new IOException("promcheck.py did not end");
        }
        if (p.exitValue() == 2) {
            String why = "the prometheus_client Python package is missing (" + err.strip() + "): python3 -m venv .cache/python"
                    + " && .cache/python/bin/pip install prometheus_client==0.26.0";
            if ("true".equals(System.getenv("CI"))) {
                throw new AssertionError(why);
            }
            Assumptions.abort(why);
        }
        if (p.exitValue() != 0) {
            throw new AssertionError("prometheus_client refused the exposition: " + err.strip() + "\n" + text);
        }
        Map<String, String> out2 = new HashMap<>();
        for (String line : out.split("\n")) {
            List<String> f = List.of(line.split(" "));
            if (f.size() == 3) {
                out2.put(f.get(0), f.get(1) + " " + f.get(2));
            }
        }
        return out2;
    }
}
