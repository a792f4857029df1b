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
        return execute(newCommandLine(), args);
    }

    /** Runs the command line with its output and errors into {@code out} (the demo's steps). */
    public static int runInto(java.io.PrintWriter out, String... args) {
        CommandLine cl = newCommandLine();
        cl.setOut(out);
        cl.setErr(out);
        return cl.execute(args);
    }

    /** Runs {@code args} on {@code cl} (a tree from {@link #newCommandLine}), config files included. */
    static int execute(CommandLine cl, String... args) {
        Debug.reset(); // each invocation decides for itself (tests run many in one JVM)
        try {
            applyConfigFile(cl, args);
        } catch (IllegalArgumentException e) {
            cl.getErr().println("meshauth: " + e.getMessage());
            cl.getErr().flush();
            return ExitCodes.USAGE;
        }
        return cl.execute(args);
    }

    /**
     * If the subcommand named by {@code args[0]} has a {@code --config FILE} option and it is given, that
     * file's settings become the subcommand's defaults (flags still win). Read before parsing, because
     * picocli applies defaults while it parses.
     */
    static void applyConfigFile(CommandLine cl, String[] args) {
        if (args.length == 0 || !cl.getSubcommands().containsKey(args[0])) {
            return;
        }
        CommandLine sub = cl.getSubcommands().get(args[0]);
        if (sub.getCommandSpec().findOption("--config") == null) {
            return;
        }
        for (int i = 1; i < args.length; i++) {
            String file = null;
            if (args[i].equals("--config") && i + 1 < args.length) {
                file = args[i + 1];
            } else if (args[i].startsWith("--config=")) {
                file = args[i].substring("--config=".length());
            }
            if (file != null) {
                sub.setDefaultValueProvider(ConfigFileDefaults.load(java.nio.file.Path.of(file), sub.getCommandSpec()));
                return;
            }
        }
    }

    /** The configured picocli command tree. */
    public static CommandLine newCommandLine() {
        CommandLine cl = new CommandLine(new MeshauthCommand());
        cl.setCaseInsensitiveEnumValuesAllowed(true);
        // Durations as Cilium's flags, SPIRE's configuration and kubectl write them (5m0s, 1h), ISO-8601 too.
        cl.registerConverter(java.time.Duration.class, s -> {
            try {
                return dev.meshauth.spire.config.GoDuration.parse(s);
            } catch (IllegalArgumentException e) {
                throw new CommandLine.TypeConversionException(e.getMessage());
            }
        });
        cl.setExecutionExceptionHandler(new ErrorHandler());
        return cl;
    }
}
