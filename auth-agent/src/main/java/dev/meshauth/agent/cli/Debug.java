package dev.meshauth.agent.cli;

/**
 * {@code --debug} (any command) or {@code MESHAUTH_DEBUG=1}: stack traces with errors. Set once while the
 * command line is parsed, read when a command fails.
 */
final class Debug {
    private static volatile boolean on = fromEnvironment();

    private Debug() {
    }

    private static boolean fromEnvironment() {
        return "1".equals(System.getenv("MESHAUTH_DEBUG")) || "true".equalsIgnoreCase(System.getenv("MESHAUTH_DEBUG"));
    }

    /** Back to what the environment says, before a command line is parsed. */
    static void reset() {
        on = fromEnvironment();
    }

    static void enable() {
        on = true;
    }

    static boolean enabled() {
        return on;
    }
}
