package dev.meshauth.agent.cli;

/**
 * Exit codes of every {@code meshauth} command (documented in docs/cli.md).
 */
public final class ExitCodes {
    /** The command did what was asked. */
    public static final int OK = 0;
    /** The command ran and failed: kernel refusal, missing map, wrong layout. The message says why. */
    public static final int FAILURE = 1;
    /** The command line was wrong (picocli's usage error code). */
    public static final int USAGE = 2;
    /** The command or option exists but what it does is not built yet in this version. */
    public static final int NOT_BUILT = 3;

    private ExitCodes() {
    }
}
