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
        String message = ex instanceof BpfException || ex instanceof IllegalArgumentException
                ? ex.getMessage()
                : ex.getClass().getSimpleName() + ": " + ex.getMessage();
        cmd.getErr().println("meshauth: " + message);
        if (!(ex instanceof BpfException) && !(ex instanceof IllegalArgumentException)) {
            ex.printStackTrace(cmd.getErr());
        }
        cmd.getErr().flush();
        return ExitCodes.FAILURE;
    }
}
