package dev.meshauth.agent.cli;

import picocli.CommandLine.Command;

/** {@code meshauth}: the top-level command (its subcommands are added by {@link Main#newCommandLine(String...)}). */
@Command(name = "meshauth",
        mixinStandardHelpOptions = true,
        versionProvider = VersionProvider.class,
        description = "Zero-trust, certificate-based mutual authentication for Kubernetes workloads, enforced in the Linux kernel.",
        footer = {"", "Exit codes: 0 ok, 1 failure (the message says why), 2 usage error, 3 not built yet."})
public final class MeshauthCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    /** {@code --debug}, on any command: stack traces with errors. */
    @picocli.CommandLine.Option(names = "--debug", scope = picocli.CommandLine.ScopeType.INHERIT,
            description = "Print stack traces with errors (also MESHAUTH_DEBUG=1).")
    void debug(boolean on) {
        if (on) {
            Debug.enable();
        }
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
