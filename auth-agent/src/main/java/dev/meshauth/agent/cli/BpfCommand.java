package dev.meshauth.agent.cli;

import picocli.CommandLine.Command;

/** {@code meshauth bpf}: inspect the kernel maps, as {@code cilium-dbg bpf} does. */
@Command(name = "bpf", description = "Inspect and manage meshauth's kernel BPF maps.",
        mixinStandardHelpOptions = true,
        subcommands = {AuthMapCommand.class})
public final class BpfCommand implements Runnable {
    @picocli.CommandLine.Spec
    picocli.CommandLine.Model.CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }
}
