package dev.meshauth.agent.cli;

import dev.meshauth.agent.node.AgentConfig;
import dev.meshauth.agent.node.source.SourceConfig;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code meshauth agent --config FILE}: YAML settings named like the flags; flags win; mistakes are refused. */
class AgentConfigFileTest {
    private static AgentConfig parse(String... args) {
        CommandLine cl = Main.newCommandLine();
        Main.applyConfigFile(cl, args);
        CommandLine.ParseResult r = cl.parseArgs(args);
        return ((AgentCommand) r.subcommand().commandSpec().userObject()).config();
    }

    @Test
    void settingsComeFromTheFileAndFlagsWin(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("agent.yaml"), """
                node-name: node-2
                endpoints: /etc/meshauth/endpoints.yaml
                policies: [/etc/meshauth/policies, /etc/meshauth/extra.yaml]
                datapath: memory
                mesh-auth-queue-size: 4096
                mesh-auth-gc-interval: 1m0s
                mesh-auth-spiffe-trust-domain: example.org
                """);
        AgentConfig c = parse("agent", "--config", file.toString(), "--mesh-auth-queue-size", "16");
        assertThat(c.nodeName()).isEqualTo("node-2");
        assertThat(c.source()).isEqualTo(new SourceConfig.Files(Path.of("/etc/meshauth/endpoints.yaml"),
                List.of(Path.of("/etc/meshauth/policies"), Path.of("/etc/meshauth/extra.yaml")), java.util.Optional.empty()));
        assertThat(c.datapathMode()).isEqualTo(dev.meshauth.agent.node.DatapathMode.MEMORY);
        assertThat(c.gcInterval()).isEqualTo(Duration.ofMinutes(1));
        assertThat(c.trustDomain().getName()).isEqualTo("example.org");
        assertThat(c.manager().queueSize()).as("the flag wins over the file").isEqualTo(16);
        assertThat(c.port()).as("untouched settings keep their defaults").isEqualTo(4250);
    }

    @Test
    void durationsAreWrittenAsGoWritesThemOrAsIso8601(@TempDir Path dir) throws Exception {
        AgentConfig c = parse("agent", "--node-name", "n1", "--endpoints", "e.yaml", "--policies", "p.yaml",
                "--datapath", "memory", "--mesh-auth-gc-interval", "5m0s", "--mesh-auth-mutual-connect-timeout", "300ms",
                "--bpf-ct-timeout-regular-tcp", "1h30m", "--policy-evaluation-budget", "PT20S");
        assertThat(c.gcInterval()).isEqualTo(Duration.ofMinutes(5));
        assertThat(c.connectTimeout()).isEqualTo(Duration.ofMillis(300));
        assertThat(c.tuning().ctTimeouts().tcpEstablished()).isEqualTo(Duration.ofMinutes(90));
        assertThat(c.tuning().evaluationBudget()).as("ISO-8601 still works").isEqualTo(Duration.ofSeconds(20));

        CliRun bad = CliRun.of("agent", "--node-name", "n1", "--endpoints", "e.yaml", "--policies", "p.yaml",
                "--mesh-auth-gc-interval", "5 minutes");
        assertThat(bad.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(bad.err()).contains("--mesh-auth-gc-interval").contains("'5 minutes' is not a duration")
                .contains("5m0s");

        CliRun help = CliRun.of("agent", "--help");
        assertThat(help.out()).as("defaults print the Go way").contains("Default: 5m0s").contains("6h0m0s")
                .doesNotContain("PT5M");
    }

    @Test
    void theListenerBindsEveryAddressUnlessGivenOne() {
        AgentConfig all = parse("agent", "--node-name", "n1", "--endpoints", "e.yaml", "--policies", "p.yaml");
        assertThat(all.listen()).isEqualTo(new dev.meshauth.agent.node.ListenAddress.AllAddresses());
        assertThat(all.listen().host("10.0.0.1")).isEmpty();
        AgentConfig one = parse("agent", "--node-name", "n1", "--endpoints", "e.yaml", "--policies", "p.yaml",
                "--mesh-auth-mutual-listen-address", "fd00::7");
        assertThat(one.listen().host("10.0.0.1")).contains("fd00::7");
        CliRun bad = CliRun.of("agent", "--node-name", "n1", "--endpoints", "e.yaml", "--policies", "p.yaml",
                "--mesh-auth-mutual-listen-address", "node-1.example");
        assertThat(bad.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(bad.err()).contains("--mesh-auth-mutual-listen-address must be an IP address");
    }

    @Test
    void theDevServersSvidTtlTakesAGoDuration() {
        CommandLine cl = Main.newCommandLine();
        CommandLine.ParseResult r = cl.parseArgs("spire", "dev-server", "--svid-ttl", "1h");
        CommandLine.ParseResult dev = r.subcommand().subcommand();
        assertThat(dev.matchedOptionValue("--svid-ttl", Duration.ZERO)).isEqualTo(Duration.ofHours(1));
    }

    @Test
    void aMisspelledSettingIsRefusedWithItsLineAndTheOptionMeant(@TempDir Path dir) throws Exception {
        Path file = Files.writeString(dir.resolve("agent.yaml"), """
                node-name: node-1
                mesh-auth-queue-sise: 4096
                """);
        CliRun r = CliRun.of("agent", "--config", file.toString());
        assertThat(r.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains(file + ":2: unknown setting 'mesh-auth-queue-sise'")
                .contains("did you mean 'mesh-auth-queue-size'?");
    }

    @Test
    void malformedYamlAndNestedValuesAreRefused(@TempDir Path dir) throws Exception {
        Path bad = Files.writeString(dir.resolve("bad.yaml"), "node-name: [unclosed\n");
        assertThat(CliRun.of("agent", "--config", bad.toString()).err()).contains("not valid YAML");
        Path nested = Files.writeString(dir.resolve("nested.yaml"), "node-name: {a: b}\n");
        CliRun r = CliRun.of("agent", "--config", nested.toString());
        assertThat(r.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("'node-name' must be a single value");
        assertThat(CliRun.of("agent", "--config", dir.resolve("missing.yaml").toString()).err()).contains("cannot be read");
    }

    @Test
    void aControlCharacterOrASettingGivenTwiceIsRefusedInOneLine(@TempDir Path dir) throws Exception {
        // Found by AgentConfigFileFuzzTest: a NUL byte escaped as an untranslated snakeyaml ReaderException.
        Path nul = Files.writeString(dir.resolve("nul.yaml"), "node-name: node-1\nauth-map: /sys/fs\0bpf\n");
        CliRun r = CliRun.of("agent", "--config", nul.toString());
        assertThat(r.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err().strip()).isEqualTo("meshauth: config file " + nul + ": not valid YAML: character 0x0 at offset 35"
                + " is not allowed");
        Path twice = Files.writeString(dir.resolve("twice.yaml"), "node-name: node-1\nnode-name: node-2\n");
        CliRun t = CliRun.of("agent", "--config", twice.toString());
        assertThat(t.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(t.err()).contains(twice + ":2: 'node-name' is given twice (first on line 1)");
    }

    @Test
    void theSourceMustBeExactlyOneOfFilesOrKubernetes(@TempDir Path dir) {
        CliRun none = CliRun.of("agent", "--node-name", "n1", "--datapath", "memory");
        assertThat(none.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(none.err()).contains("give exactly one source");
        CliRun both = CliRun.of("agent", "--node-name", "n1", "--endpoints", "e.yaml", "--policies", "p.yaml",
                "--kubernetes");
        assertThat(both.code()).isEqualTo(ExitCodes.USAGE);
        CliRun half = CliRun.of("agent", "--node-name", "n1", "--endpoints", "e.yaml");
        assertThat(half.err()).contains("needs both --endpoints FILE and --policies PATH");
        CliRun noNode = CliRun.of("agent", "--kubernetes");
        assertThat(noNode.err()).contains("--node-name is required");
        assertThat(parse("agent", "--node-name", "n1", "--kubeconfig", dir.resolve("kc").toString()).source())
                .isEqualTo(new SourceConfig.Kubernetes(java.util.Optional.of(dir.resolve("kc")), Duration.ofMinutes(2),
                        java.util.Optional.of(Path.of("/var/run/meshauth/node-ids"))));
    }

    @Test
    void aValueOutsideAFlagsChoicesIsRefusedNamingThem() {
        CliRun r = CliRun.of("agent", "--node-name", "node-1", "--endpoints", "e.yaml", "--policies", "p.yaml",
                "--datapath", "kernel");
        assertThat(r.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(r.err()).contains("'--datapath'").contains("cilium").contains("standalone").contains("memory")
                .contains("'kernel'");
        CliRun f = CliRun.of("operator", "--log-format", "xml");
        assertThat(f.code()).isEqualTo(ExitCodes.USAGE);
        assertThat(f.err()).contains("'--log-format'").contains("json").contains("'xml'");
    }
}
