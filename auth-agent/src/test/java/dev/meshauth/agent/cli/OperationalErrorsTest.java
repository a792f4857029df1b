package dev.meshauth.agent.cli;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** An operational error is one line saying what failed, on what, and what to do; stack traces only with --debug. */
class OperationalErrorsTest {
    @TempDir
    Path dir;

    private Path endpoints() throws Exception {
        return Files.writeString(dir.resolve("endpoints.yaml"), """
                nodes:
                  - {name: n1, id: 1, internalIP: 127.0.0.1}
                endpoints:
                  - {name: a, node: n1, ipv4: 198.18.0.1, labels: {app: a}}
                """);
    }

    private Path policy() throws Exception {
        return Files.writeString(dir.resolve("p.yaml"), """
                apiVersion: cilium.io/v2
                kind: CiliumNetworkPolicy
                metadata: {name: p}
                spec:
                  endpointSelector: {matchLabels: {app: a}}
                  ingress: [{fromEndpoints: [{matchLabels: {app: a}}]}]
                """);
    }

    private static void oneLineNoTrace(CliRun r) {
        assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
        assertThat(r.err().strip().lines()).as(r.err()).hasSize(1);
        assertThat(r.err()).doesNotContain("\tat ").doesNotContain("Exception");
    }

    @Test
    void theOperatorAgainstASocketWhoseServerIsGoneSaysTheServerIsNotRunning() throws Exception {
        Path sock = dir.resolve("api.sock");
        try (ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.bind(UnixDomainSocketAddress.of(sock)); // then closed: the file stays, nothing listens
        }
        CliRun r = CliRun.of("operator", "--once", "--spire-server-socket", sock.toString(), "--endpoints",
                endpoints().toString());
        oneLineNoTrace(r);
        assertThat(r.err()).contains("SPIRE server not running at " + sock).contains("start spire-server");
    }

    @org.junit.jupiter.params.ParameterizedTest
    @org.junit.jupiter.params.provider.CsvSource(delimiter = '|', value = {
            "--registration=nodes | --registration must be node or cluster, got 'nodes'",
            "--node-parent-template=spiffe://{trustDomain}/node/{node} | unknown placeholder {node}",
            "--node-parent-template=spiffe://{trustDomain}/x/{nodeUID} | needs node UIDs ({nodeUID}), which an endpoints file does not give",
            "--node-parent-template=spiffe://example.org/node/{nodeName} | outside trust domain spiffe.cilium",
            "--cluster-parent=spiffe://example.org/cilium-operator | --cluster-parent spiffe://example.org/cilium-operator is outside trust domain",
            "--entry-grace=-5s | --entry-grace must not be negative"})
    void aBadRegistrationFlagIsOneLineNamingItAndTouchesNoServer(String flag, String says) throws Exception {
        CliRun r = CliRun.of("operator", "--once", "--spire-server-socket", dir.resolve("never-dialed.sock").toString(),
                "--endpoints", endpoints().toString(), flag);
        oneLineNoTrace(r);
        assertThat(r.err()).contains(says).doesNotContain("SPIRE server");
    }

    @Test
    void aSecondAgentOnTheSameStatusSocketSaysSoInOneLine() throws Exception {
        Path sock = dir.resolve("agent.sock");
        Path policy = policy();
        try (ServerSocketChannel live = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            live.bind(UnixDomainSocketAddress.of(sock)); // "another running agent"
            CliRun r = CliRun.of("agent", "--node-name", "n1", "--endpoints", endpoints().toString(), "--policies",
                    policy.toString(), "--datapath", "memory", "--status-socket", sock.toString(), "--metrics-address", "off",
                    "--mesh-auth-mutual-listener-port", "0", "--mesh-auth-svid-wait", "0s",
                    "--mesh-auth-spire-admin-socket", dir.resolve("no-spire.sock").toString());
            oneLineNoTrace(r);
            assertThat(r.err()).contains("status socket " + sock + " is in use by another running agent")
                    .contains("--status-socket");
        }
    }

    @Test
    void withoutCiliumTheNodeMapErrorNamesItAndTheAlternative() throws Exception {
        Path policy = policy();
        Path missing = dir.resolve("no-cilium/cilium_node_map_v2");
        CliRun r = CliRun.of("agent", "--node-name", "n1", "--endpoints", endpoints().toString(), "--policies",
                policy.toString(), "--datapath", "cilium", "--cilium-node-map", missing.toString(), "--auth-map",
                dir.resolve("auth").toString(), "--status-socket", "off", "--metrics-address", "off");
        oneLineNoTrace(r);
        assertThat(r.err()).contains("Cilium's node map at " + missing).contains("Is Cilium running on this node?")
                .contains("--node-ids source");
    }


    @Test
    void anEndpointsPathThatIsADirectoryIsNamedInTheError() throws Exception {
        Path notAFile = Files.createDirectories(dir.resolve("endpoints.d"));
        CliRun r = CliRun.of("policy", "explain", "--all", "--policies", policy().toString(), "--endpoints", notAFile.toString());
        oneLineNoTrace(r);
        assertThat(r.err()).contains("reading the endpoints file " + notAFile + " failed").contains("directory");
    }

    @Test
    void aMissingPolicyPathIsNamed() throws Exception {
        Path missing = dir.resolve("no-such-policies");
        CliRun r = CliRun.of("policy", "explain", "--all", "--policies", missing.toString(), "--endpoints", endpoints().toString());
        oneLineNoTrace(r);
        assertThat(r.err()).contains(missing.toString()).contains("no such policy file or directory");
    }

    @Test
    void aSubdirectoryNamedLikeAPolicyFileIsSkippedNotRead() throws Exception {
        Path policies = Files.createDirectories(dir.resolve("policies"));
        Files.move(policy(), policies.resolve("p.yaml"));
        Files.createDirectories(policies.resolve("old.yaml")); // a directory with a policy-file name
        CliRun r = CliRun.of("policy", "check", policies.toString());
        assertThat(r.code()).as(r.err()).isZero();
        assertThat(r.out()).isEqualTo("OK: 1 policies in 1 files\n");
    }

    @Test
    void anEndpointsFileWithTwoEndpointsOnOneAddressIsRefusedWithBothLines() throws Exception {
        Path dup = Files.writeString(dir.resolve("dup.yaml"), """
                nodes:
                  - {name: n1, id: 1, internalIP: 127.0.0.1}
                endpoints:
                  - {name: a, node: n1, ipv4: 198.18.0.1, labels: {app: a}}
                  - {name: b, node: n1, ipv4: 198.18.0.1, labels: {app: b}}
                """);
        CliRun r = CliRun.of("policy", "explain", "--all", "--policies", policy().toString(), "--endpoints", dup.toString());
        oneLineNoTrace(r);
        assertThat(r.err()).contains(dup.toString()).contains("198.18.0.1");
    }

    @Test
    void anUntranslatedErrorIsNamedAsABugAndItsTraceComesWithDebug() {
        StringWriter err = new StringWriter();
        CommandLine cl = Main.newCommandLine();
        cl.setErr(new PrintWriter(err));
        Debug.reset();
        int code = new ErrorHandler().handleExecutionException(new NullPointerException("x"), cl, null);
        assertThat(code).isEqualTo(ExitCodes.FAILURE);
        assertThat(err.toString()).startsWith("meshauth: internal error, NullPointerException: x")
                .contains("--debug").doesNotContain("\tat ");
        StringWriter debug = new StringWriter();
        cl.setErr(new PrintWriter(debug));
        Debug.enable();
        try {
            new ErrorHandler().handleExecutionException(new NullPointerException("x"), cl, null);
        } finally {
            Debug.reset();
        }
        assertThat(debug.toString()).contains("\tat ");
        assertThat(CliRun.of("--debug", "--version").code()).as("--debug is accepted on any command").isZero();
    }
}
