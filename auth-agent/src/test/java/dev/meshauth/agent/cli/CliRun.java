package dev.meshauth.agent.cli;

import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

/**
 * One {@code meshauth} invocation in-process, as a user would type it, with what it printed.
 *
 * @param code exit code
 * @param out  standard output
 * @param err  standard error
 */
public record CliRun(int code, String out, String err) {
    public static CliRun of(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.newCommandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = Main.execute(cl, args);
        return new CliRun(code, out.toString(), err.toString());
    }
}
