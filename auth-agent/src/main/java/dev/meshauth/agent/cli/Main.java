package dev.meshauth.agent.cli;

import picocli.CommandLine;

/** Entry point of the {@code meshauth} command. The only place that calls {@link System#exit}. */
public final class Main {
    private Main() {
    }

    /** Runs the command line and exits with its code (see {@link ExitCodes}). */
    public static void main(String[] args) {
        System.exit(run(args));
    }

    /** Runs the command line and returns its exit code; used by tests. */
    public static int run(String... args) {
        return newCommandLine().execute(args);
    }

    /** The configured picocli command tree. */
    public static CommandLine newCommandLine() {
        CommandLine cl = new CommandLine(new MeshauthCommand());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        cl.setExecutionExceptionHandler(new ErrorHandler());
        return cl;
    }
}
