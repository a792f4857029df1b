package dev.meshauth.agent.cli;

import org.junit.jupiter.api.Test;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;

/** The command tree as a user meets it: help, version, and the demo placeholder. */
class CliTest {
    private static String[] run(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.newCommandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new String[] {Integer.toString(code), out.toString(), err.toString()};
    }

    @Test
    void helpListsTheCommands() {
        String[] r = run("--help");
        assertThat(r[0]).isEqualTo("0");
        assertThat(r[1]).contains("Usage: meshauth").containsPattern("(?m)^\\s+demo\\s").containsPattern("(?m)^\\s+bpf\\s");
    }

    @Test
    void bpfAuthHelpListsListAndFlush() {
        String[] r = run("bpf", "auth", "--help");
        assertThat(r[1]).containsPattern("(?m)^\\s+list, ls\\s").containsPattern("(?m)^\\s+flush\\s");
    }

    @Test
    void demoSaysItIsNotBuiltYetAndExitsNonZero() {
        String[] r = run("demo");
        assertThat(r[0]).isEqualTo(Integer.toString(ExitCodes.NOT_BUILT));
        assertThat(r[2]).contains("not built yet");
    }

    @Test
    void unknownCommandIsAUsageError() {
        String[] r = run("bogus");
        assertThat(r[0]).isEqualTo(Integer.toString(ExitCodes.USAGE));
        assertThat(r[2]).contains("Unmatched argument");
    }
}
