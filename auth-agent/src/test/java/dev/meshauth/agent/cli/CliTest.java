package dev.meshauth.agent.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The command tree as a user meets it: help, version, and the demo placeholder. */
class CliTest {

    @Test
    void helpListsTheCommands() {
        CliRun r = CliRun.of("--help");
        assertThat(r.code()).isZero();
        assertThat(r.out()).contains("Usage: meshauth").containsPattern("(?m)^\\s+demo\\s").containsPattern("(?m)^\\s+bpf\\s");
    }

    @Test
    void bpfAuthHelpListsListAndFlush() {
        CliRun r = CliRun.of("bpf", "auth", "--help");
        assertThat(r.out()).containsPattern("(?m)^\\s+list, ls\\s").containsPattern("(?m)^\\s+flush\\s");
    }

    @Test
    void versionNamesTheJvm() {
        CliRun r = CliRun.of("--version");
        assertThat(r.code()).isZero();
        assertThat(r.out()).startsWith("meshauth ").contains("JVM " + Runtime.version());
    }

    @Test
    void demoOptionsNotBuiltYetSaySoAndExitNonZero() {
        CliRun r = CliRun.of("demo", "--reactive");
        assertThat(r.code()).isEqualTo(ExitCodes.NOT_BUILT);
        assertThat(r.err()).contains("not built yet");
    }

    @Test
    void unknownCommandIsAUsageError() {
        CliRun r = CliRun.of("bogus");
        assertThat(r.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("Unmatched argument");
    }
}
