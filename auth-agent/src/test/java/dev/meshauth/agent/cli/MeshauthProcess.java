package dev.meshauth.agent.cli;

import java.io.BufferedReader;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;

/** {@code meshauth <args>} as its own process on this JVM and class path, its output collected into a buffer. */
public final class MeshauthProcess {
    private MeshauthProcess() {
    }

    /** Starts it; {@code log} receives every line it prints (stdout and stderr). */
    public static Process start(List<String> args, StringBuffer log) throws java.io.IOException {
        return start(List.of(), args, log);
    }

    /** Starts it with more JVM options ({@code -Xlog:...}). */
    public static Process start(List<String> jvmOptions, List<String> args, StringBuffer log) throws java.io.IOException {
        List<String> cmd = new ArrayList<>(List.of(Path.of(System.getProperty("java.home"), "bin", "java").toString(),
                "--enable-native-access=ALL-UNNAMED", "--sun-misc-unsafe-memory-access=allow"));
        cmd.addAll(jvmOptions);
        cmd.addAll(List.of("-cp", System.getProperty("java.class.path"), Main.class.getName()));
        cmd.addAll(args);
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        Thread.ofVirtual().start(() -> {
            try (var r = new BufferedReader(new InputStreamReader(p.getInputStream(), StandardCharsets.UTF_8))) {
                for (String line; (line = r.readLine()) != null; ) {
                    log.append(line).append('\n');
                }
            } catch (java.io.IOException e) {
                // the process is gone
            }
        });
        return p;
    }
}
