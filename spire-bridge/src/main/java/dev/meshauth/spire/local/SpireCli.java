package dev.meshauth.spire.local;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.CompletableFuture;
import java.util.concurrent.TimeUnit;

/** Runs one {@code spire-server} or {@code spire-agent} CLI command and returns what it printed. */
final class SpireCli {
    private static final long TIMEOUT_S = 30;

    private SpireCli() {
    }

    /** The result of a command. */
    record Result(int exitCode, String out, String err) {
        boolean ok() {
            return exitCode == 0;
        }
    }

    /** Runs {@code binary args...}; a non-zero exit is returned, not thrown. */
    static Result run(Path binary, List<String> args) throws LocalSpireException {
        List<String> cmd = new ArrayList<>();
        cmd.add(binary.toString());
        cmd.addAll(args);
        try {
            Process p = new ProcessBuilder(cmd).start();
            p.getOutputStream().close();
            CompletableFuture<byte[]> err = CompletableFuture.supplyAsync(() -> {
                try {
                    return p.getErrorStream().readAllBytes();
                } catch (IOException e) {
                    return new byte[0];
                }
            });
            byte[] out = p.getInputStream().readAllBytes();
            if (!p.waitFor(TIMEOUT_S, TimeUnit.SECONDS)) {
                p.destroyForcibly();
                throw new LocalSpireException(String.join(" ", cmd) + " did not finish within " + TIMEOUT_S + " s");
            }
            return new Result(p.exitValue(), new String(out, StandardCharsets.UTF_8),
                    new String(err.join(), StandardCharsets.UTF_8));
        } catch (IOException e) {
            throw new LocalSpireException("cannot run " + String.join(" ", cmd) + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalSpireException("interrupted running " + String.join(" ", cmd), e);
        }
    }

    /** Runs it and requires exit 0; otherwise the exception carries what the command printed. */
    static String ok(Path binary, List<String> args) throws LocalSpireException {
        Result r = run(binary, args);
        if (!r.ok()) {
            throw new LocalSpireException(binary.getFileName() + " " + String.join(" ", args) + " failed (exit " + r.exitCode()
                    + "): " + (r.err() + r.out()).strip());
        }
        return r.out();
    }
}
