package dev.meshauth.spire.local;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * One SPIRE child process ({@code spire-server run} or {@code spire-agent run}) with its output appended
 * to a log file, so a restart keeps the earlier run's lines. Not thread-safe: its owner (a
 * {@link LocalSpireServer} or {@link LocalSpireAgent}) drives it from one thread at a time.
 */
final class SpireProcess implements AutoCloseable {
    private static final long STOP_GRACE_MS = 5_000;

    private final String name;
    private final Path log;
    private Process process;

    SpireProcess(String name, Path log) {
        this.name = name;
        this.log = log;
    }

    /** Starts {@code command}; the process must not be running. */
    void start(List<String> command) throws LocalSpireException {
        if (alive()) {
            throw new IllegalStateException(name + " is already running (pid " + process.pid() + ")");
        }
        try {
            Files.createDirectories(log.toAbsolutePath().getParent());
            Files.writeString(log, "---- " + java.time.Instant.now() + " " + String.join(" ", command) + "\n",
                    java.nio.file.StandardOpenOption.CREATE, java.nio.file.StandardOpenOption.APPEND);
            process = new ProcessBuilder(command)
                    .redirectErrorStream(true)
                    .redirectOutput(ProcessBuilder.Redirect.appendTo(log.toFile()))
                    .redirectInput(ProcessBuilder.Redirect.from(new java.io.File("/dev/null")))
                    .start();
        } catch (IOException e) {
            throw new LocalSpireException("cannot start " + name + " (" + command.getFirst() + "): " + e.getMessage(), e);
        }
    }

    boolean alive() {
        return process != null && process.isAlive();
    }

    Optional<Long> pid() {
        return alive() ? Optional.of(process.pid()) : Optional.empty();
    }

    /** SIGKILL, as a crash or the OOM killer would, and waits until it is gone. */
    void kill() {
        if (process == null) {
            return;
        }
        process.destroyForcibly();
        waitFor(STOP_GRACE_MS);
    }

    /** SIGTERM, SPIRE's graceful stop, then SIGKILL if it is still there after 5 s. */
    void stop() {
        if (!alive()) {
            return;
        }
        process.destroy();
        if (!waitFor(STOP_GRACE_MS)) {
            kill();
        }
    }

    private boolean waitFor(long ms) {
        try {
            return process.waitFor(ms, TimeUnit.MILLISECONDS);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            return !process.isAlive();
        }
    }

    /** The exit code if it ended, for messages. */
    Optional<Integer> exitCode() {
        return process != null && !process.isAlive() ? Optional.of(process.exitValue()) : Optional.empty();
    }

    Path log() {
        return log;
    }

    String name() {
        return name;
    }

    /** The last {@code lines} lines of the log, for error messages and test reports. */
    String tail(int lines) {
        try {
            List<String> all = Files.readAllLines(log);
            return String.join("\n", all.subList(Math.max(0, all.size() - lines), all.size()));
        } catch (IOException e) {
            return "(no log at " + log + ": " + e.getMessage() + ")";
        }
    }

    @Override
    public void close() {
        stop();
    }
}
