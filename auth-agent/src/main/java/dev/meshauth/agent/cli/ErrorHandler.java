package dev.meshauth.agent.cli;

import dev.meshauth.bpf.BpfException;
import picocli.CommandLine;

/**
 * Turns failures into one clear line on stderr and exit code 1. Errors are translated here, once:
 * commands let {@link BpfException} and the other domain exceptions propagate with their context, and an
 * operational failure (a file, a socket, a kernel call) is its message, never a stack trace. An exception
 * nobody translated is a bug: one line names it, and {@code --debug} prints its stack trace.
 */
final class ErrorHandler implements CommandLine.IExecutionExceptionHandler {
    @Override
    public int handleExecutionException(Exception ex, CommandLine cmd, CommandLine.ParseResult parsed) {
        boolean known = ex instanceof dev.meshauth.agent.status.StatusClient.AgentException || ex instanceof BpfException
                || ex instanceof IllegalArgumentException || ex instanceof dev.meshauth.policy.PolicyException
                || ex instanceof dev.meshauth.spire.SvidException || ex instanceof java.io.IOException
                || ex instanceof java.io.UncheckedIOException;
        String message = known ? ex.getMessage() : "internal error, " + ex.getClass().getSimpleName() + ": " + ex.getMessage()
                + (Debug.enabled() ? "" : " (run with --debug for the stack trace, and report it)");
        cmd.getErr().println("meshauth: " + message);
        if (Debug.enabled()) {
            ex.printStackTrace(cmd.getErr());
        }
        cmd.getErr().flush();
        return ExitCodes.FAILURE;
    }
}
