package dev.meshauth.agent.cli;

import picocli.CommandLine.Command;

/** {@code meshauth spire}: SPIRE tooling. */
@Command(name = "spire", description = "SPIRE tooling: an embedded SPIRE-compatible dev server.",
        mixinStandardHelpOptions = true, subcommands = {SpireDevServerCommand.class})
public final class SpireCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
