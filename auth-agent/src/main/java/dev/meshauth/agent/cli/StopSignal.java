package dev.meshauth.agent.cli;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.Duration;
import java.util.List;
import java.util.concurrent.CountDownLatch;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * SIGTERM and SIGINT for a long-running command: the first wakes the command, which then closes what it
 * runs and returns its exit code (0) through {@link Main}; a second exits at once.
 *
 * <p>Why a signal handler and not a shutdown hook: the JVM halts as soon as its shutdown hooks return,
 * so a hook that only wakes the main thread cuts that thread's {@code close()} short (sockets stay
 * behind, tcx links stay attached, handshakes in flight are cut), and the process exits 143. Handling the
 * signal keeps the JVM's shutdown sequence for the normal exit, after the close.
 */
final class StopSignal {
    private static final Logger LOG = LoggerFactory.getLogger(StopSignal.class);

    private static final Duration HOOK_WAIT = Duration.ofSeconds(30);

    private final CountDownLatch stop = new CountDownLatch(1);
    private final CountDownLatch done = new CountDownLatch(1);
    private final AtomicInteger received = new AtomicInteger();
    private final String command;

    private StopSignal(String command) {
        this.command = command;
    }

    /** Handles SIGTERM and SIGINT from now on for {@code command} (its name, for the log line). */
    static StopSignal install(String command) {
        StopSignal s = new StopSignal(command);
        for (String name : List.of("TERM", "INT")) {
            try {
                sun.misc.Signal.handle(new sun.misc.Signal(name), s::received);
            } catch (IllegalArgumentException e) {
                // the JVM reserves it (-Xrs, or a debugger): fall back to a hook that waits for the close
                Runtime.getRuntime().addShutdownHook(new Thread(s::stopFromHook, "meshauth-stop-" + name));
                LOG.atWarn().addKeyValue("signal", name).addKeyValue("error", e.getMessage())
                        .log("cannot handle the signal; stopping through a shutdown hook instead");
            }
        }
        return s;
    }

    private void received(sun.misc.Signal signal) {
        if (received.incrementAndGet() == 1) {
            LOG.atInfo().addKeyValue("command", command).addKeyValue("signal", "SIG" + signal.getName())
                    .log("stopping: closing everything, then exiting (send it again to exit at once)");
            stop.countDown();
        } else {
            LOG.atWarn().addKeyValue("command", command).addKeyValue("signal", "SIG" + signal.getName())
                    .log("second signal: exiting at once");
            Runtime.getRuntime().halt(ExitCodes.FAILURE);
        }
    }

    private void stopFromHook() {
        stop.countDown();
        try {
            done.await(HOOK_WAIT.toSeconds(), TimeUnit.SECONDS); // the JVM halts when this hook returns
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
    }

    /** The command has closed everything: a waiting shutdown hook may let the JVM halt. */
    void done() {
        done.countDown();
    }

    /** Blocks until the first signal. */
    void await() throws InterruptedException {
        stop.await();
    }

    /** Blocks until the first signal or for {@code d}; true if a signal came. */
    boolean await(Duration d) throws InterruptedException {
        return stop.await(d.toNanos(), TimeUnit.NANOSECONDS);
    }
}
