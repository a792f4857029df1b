package dev.meshauth.agent.cli;

import org.junit.jupiter.api.Test;

import static org.assertj.core.api.Assertions.assertThat;

/** The command tree as a user meets it: help, version, completion, option mistakes. */
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
    void demoOptionsThatCannotGoTogetherAreUsageErrors() {
        CliRun r = CliRun.of("demo", "--reactive", "--datapath", "memory");
        assertThat(r.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("--reactive shows a dropped packet: it needs the kernel datapath");
        assertThat(CliRun.of("demo", "--datapath", "ebpf").err()).contains("--datapath must be standalone or memory");
    }

    @Test
    void theOperatorsCommandsAreListedAndCompletionCoversThem() {
        assertThat(CliRun.of("--help").out()).containsPattern("(?m)^\\s+status\\s").containsPattern("(?m)^\\s+certs\\s")
                .containsPattern("(?m)^\\s+observe\\s").containsPattern("(?m)^\\s+check\\s");
        CliRun c = CliRun.of("completion");
        assertThat(c.code()).isZero();
        assertThat(c.out()).contains("complete -F").contains("observe").contains("--status-socket").contains("--follow");
    }

    @Test
    void unknownCommandIsAUsageError() {
        CliRun r = CliRun.of("bogus");
        assertThat(r.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("Unmatched argument");
    }
}
