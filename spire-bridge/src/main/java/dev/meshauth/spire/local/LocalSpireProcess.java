package dev.meshauth.spire.local;

import java.nio.file.Path;

/**
 * What the local spire-server and spire-agent share: one child process, its log, and how it ends. Killing
 * is a crash (SIGKILL: socket files stay behind, as after a real one); stopping is SPIRE's graceful stop.
 */
abstract sealed class LocalSpireProcess implements AutoCloseable permits LocalSpireServer, LocalSpireAgent {
    final SpireProcess process;

    LocalSpireProcess(SpireProcess process) {
        this.process = process;
    }

    /** SIGKILL: a crash. */
    public void kill() {
        process.kill();
    }

    /** SIGTERM, then SIGKILL after 5 s. */
    public void stop() {
        process.stop();
    }

    /** True while the process runs. */
    public boolean running() {
        return process.alive();
    }

    /** Its log (all runs). */
    public Path log() {
        return process.log();
    }

    /** The last lines of its log. */
    public String logTail(int lines) {
        return process.tail(lines);
    }

    @Override
    public void close() {
        process.stop();
    }
}
