package dev.meshauth.agent.cli;

import dev.meshauth.agent.node.AgentConfig;
import picocli.CommandLine;

import java.util.List;

/** Parses a command line as {@code meshauth} does (its --config file first), for tests outside this package. */
public final class CliParsing {
    private CliParsing() {
    }

    /**
     * Parses {@code args}; throws picocli's exception on an unknown flag, a config file's error on a bad key.
     *
     * @return the subcommand's parse result, with nothing left unmatched
     */
    public static CommandLine.ParseResult parse(List<String> args) {
        String[] a = args.toArray(String[]::new);
        CommandLine cl = Main.newCommandLine();
        Main.applyConfigFile(cl, a);
        CommandLine.ParseResult r = cl.parseArgs(a);
        if (r.subcommand() == null || !r.subcommand().unmatched().isEmpty()) {
            throw new AssertionError("not a complete meshauth command: " + String.join(" ", args));
        }
        return r.subcommand();
    }

    /** The checked settings of an {@code agent} command line (as the agent would start with). */
    public static AgentConfig agentConfig(List<String> args) {
        return ((AgentCommand) parse(args).commandSpec().userObject()).config();
    }
}
