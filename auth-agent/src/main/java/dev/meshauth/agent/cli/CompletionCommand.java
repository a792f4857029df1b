package dev.meshauth.agent.cli;

import picocli.AutoComplete;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.concurrent.Callable;

/** {@code meshauth completion}: a bash/zsh completion script generated from the command tree. */
@Command(name = "completion", mixinStandardHelpOptions = true,
        description = "Print a bash (and zsh, via bashcompinit) completion script generated from the command tree.%n"
                + "  source <(meshauth completion)")
public final class CompletionCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Override
    public Integer call() {
        spec.commandLine().getOut().print(AutoComplete.bash("meshauth", spec.commandLine().getParent()));
        spec.commandLine().getOut().flush();
        return ExitCodes.OK;
    }
}
