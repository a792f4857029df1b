package dev.meshauth.agent.cli;

import picocli.CommandLine;

/** Entry point of the {@code meshauth} command. The only place that calls {@link System#exit}. */
public final class Main {
    private Main() {
    }

    /** Runs the command line and exits with its code (see {@link ExitCodes}). */
    public static void main(String[] args) {
        nettyDefaults();
        System.exit(run(args));
    }

    /**
     * Netty settings for a process that moves a few kilobytes per handshake, set before any Netty class
     * loads, for both Netty copies (ours and gRPC's shaded one), unless given with -D: unpooled buffers
     * (pooled arenas would keep megabytes per event loop for nothing), and no JFR events (Netty 4.2
     * otherwise starts the flight recorder's machinery in every process).
     */
    static void nettyDefaults() {
        for (String prefix : new String[] {"io.netty.", "io.grpc.netty.shaded.io.netty."}) {
            if (System.getProperty(prefix + "allocator.type") == null) {
                System.setProperty(prefix + "allocator.type", "unpooled");
            }
            if (System.getProperty(prefix + "jfr.enabled") == null) {
                System.setProperty(prefix + "jfr.enabled", "false");
            }
        }
    }

    /** Runs the command line and returns its exit code; used by tests. */
    public static int run(String... args) {
        return execute(newCommandLine(args), args);
    }

    /** Runs the command line with its output and errors into {@code out} (the demo's steps). */
    public static int runInto(java.io.PrintWriter out, String... args) {
        CommandLine cl = newCommandLine(args);
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

    /** The subcommands, in the order help lists them. */
    static final java.util.List<String> SUBCOMMANDS = java.util.List.of("demo", "status", "certs", "observe", "check", "agent",
            "operator", "bpf", "policy", "spire", "completion");

    private static Class<?> subcommand(String name) {
        return switch (name) {
            case "demo" -> DemoCommand.class;
            case "status" -> StatusCommand.class;
            case "certs" -> CertsCommand.class;
            case "observe" -> ObserveCommand.class;
            case "check" -> CheckCommand.class;
            case "agent" -> AgentCommand.class;
            case "operator" -> OperatorCommand.class;
            case "bpf" -> BpfCommand.class;
            case "policy" -> PolicyCommand.class;
            case "spire" -> SpireCommand.class;
            case "completion" -> CompletionCommand.class;
            default -> throw new IllegalArgumentException(name);
        };
    }

    /** The configured picocli command tree, every subcommand included. */
    public static CommandLine newCommandLine() {
        return newCommandLine(new String[0]);
    }

    /**
     * The picocli command tree for {@code args}: only the subcommand they name when they name one (picocli
     * builds a subcommand's model by reflection, and building all of them is a third of a short command's
     * start-up), every subcommand otherwise (help, suggestions for a typo, completion).
     */
    public static CommandLine newCommandLine(String... args) {
        CommandLine cl = new CommandLine(new MeshauthCommand());
        String named = "";
        for (String a : args) {
            if (!a.startsWith("-")) {
                named = a;
                break;
            }
        }
        if (SUBCOMMANDS.contains(named) && !named.equals("completion")) {
            cl.addSubcommand(subcommand(named));
        } else {
            for (String n : SUBCOMMANDS) {
                cl.addSubcommand(subcommand(n));
            }
        }
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
