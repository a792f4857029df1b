package dev.meshauth.agent.cli;

import dev.meshauth.bpf.BpfException;
import picocli.CommandLine;

/**
 * Turns failures into one clear line on stderr and exit code 1. Errors are translated here, once:
 * commands let {@link BpfException} propagate with its context.
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parsed) {
        boolean known = ex instanceof dev.meshauth.agent.status.StatusClient.AgentException || ex instanceof BpfException || ex instanceof IllegalArgumentException
                || ex instanceof dev.meshauth.policy.PolicyException || ex instanceof dev.meshauth.spire.SvidException;
        String message = known ? ex.getMessage() : ex.getClass().getSimpleName() + ": " + ex.getMessage();
        cmd.getErr().println("meshauth: " + message);
        if (!known) {
            ex.printStackTrace(cmd.getErr());
        }
        cmd.getErr().flush();
        return ExitCodes.FAILURE;
    }
}
