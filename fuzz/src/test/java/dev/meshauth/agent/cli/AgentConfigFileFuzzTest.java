package dev.meshauth.agent.cli;

import com.code_intelligence.jazzer.junit.FuzzTest;
import picocli.CommandLine.Model.CommandSpec;

import java.nio.charset.StandardCharsets;

/** The agent's {@code --config} YAML: refused with an {@link IllegalArgumentException} (the CLI's one-line error) or read. */
class AgentConfigFileFuzzTest {
    private static final CommandSpec AGENT = Main.newCommandLine("agent").getSubcommands().get("agent").getCommandSpec();

    @FuzzTest(maxDuration = "30s")
    void agentConfig(byte[] input) {
        try {
            ConfigFileDefaults.parse("fuzz.yaml", new String(input, StandardCharsets.UTF_8), AGENT);
        } catch (IllegalArgumentException expected) {
            // what the CLI prints as "meshauth: ..." and exits 2
        }
    }
}
