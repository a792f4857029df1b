package dev.meshauth.spire.local;

import java.time.Duration;
import java.util.List;

/** Waits for a SPIRE process's healthcheck, failing early (with its log) if the process exits. */
final class Health {
    private Health() {
    }

    /** Starts {@code process} and waits for {@code check}; a process that does not become healthy is stopped. */
    static void start(SpireProcess process, List<String> command, Check check, String what) throws LocalSpireException {
        process.start(command);
        try {
            await(process, check, Duration.ofSeconds(60), what);
        } catch (LocalSpireException e) {
            process.stop();
            throw e;
        }
    }

    /** A check that may fail to run. */
    interface Check {
        boolean passes() throws LocalSpireException;
    }

    static void await(SpireProcess process, Check check, Duration max, String what) throws LocalSpireException {
        await(process, check, max, () -> what);
    }

    /** As above; {@code what} is read when the wait fails, so it can say what was last seen. */
    static void await(SpireProcess process, Check check, Duration max, java.util.function.Supplier<String> what)
            throws LocalSpireException {
        long deadline = System.nanoTime() + max.toNanos();
        while (System.nanoTime() < deadline) {
            if (!process.alive()) {
                throw new LocalSpireException(process.name() + " exited (code " + process.exitCode().orElse(-1)
                        + ") before `" + what.get() + "` passed; its log " + process.log() + " ends with:\n" + process.tail(40));
            }
            if (check.passes()) {
                return;
            }
            try {
                Thread.sleep(100); // polling a child process's readiness: there is no event to wait on
            } catch (InterruptedException e) {
                Thread.currentThread().interrupt();
                throw new LocalSpireException("interrupted while waiting for " + process.name(), e);
            }
        }
        throw new LocalSpireException("`" + what.get() + "` did not pass within " + max.toSeconds() + " s; "
                + process.name() + "'s log " + process.log() + " ends with:\n" + process.tail(40));
    }
}
