package dev.meshauth.agent.cli;

import dev.meshauth.agent.node.StarWarsFiles;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.concurrent.TimeUnit;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code kill -TERM} of a real {@code meshauth agent} and of a real {@code meshauth spire dev-server},
 * each its own process: they close everything (their sockets are gone), say so, and exit 0.
 */
class StopOnSigtermTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");

    private static Process meshauth(StringBuffer log, String... args) throws Exception {
        return MeshauthProcess.start(List.of(args), log);
    }

    // A real process: poll with a deadline.

    private static int terminate(Process p) throws Exception {
        new ProcessBuilder("kill", "-TERM", Long.toString(p.pid())).start().waitFor();
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).as("exited within 30 s of SIGTERM").isTrue();
        return p.exitValue();
    }

    @Test
    void theAgentClosesEverythingAndExitsZero(@TempDir Path dir) throws Exception {
        StarWarsFiles files = StarWarsFiles.write(dir, false);
        DevServerConfig spireConfig = DevServerConfig.under(dir.resolve("spire"), TD);
        try (DevServer spire = DevServer.start(spireConfig, InstantSource.system())) {
            Path status = dir.resolve("run/agent.sock");
            StringBuffer log = new StringBuffer();
            Process agent = meshauth(log, "agent", "--node-name", "node-1", "--endpoints", files.endpoints().toString(),
                    "--policies", files.policy().toString(), "--mesh-auth-spire-admin-socket",
                    spireConfig.adminSocket().toString(), "--mesh-auth-mutual-listener-port", Integer.toString(files.port()),
                    "--datapath", "memory", "--status-socket", status.toString(), "--metrics-address", "off");
            try {
                eventually("the agent is up: " + log, Duration.ofSeconds(30), () -> log.toString().contains("meshauth agent running on node-1") && Files.exists(status));
                assertThat(terminate(agent)).as(log.toString()).isZero();
                assertThat(log.toString()).contains("stopping: closing everything").contains("meshauth agent stopped on node-1");
                assertThat(status).as("the status socket is removed").doesNotExist();
            } finally {
                agent.destroyForcibly();
            }
        }
    }

    @Test
    void theDevServerRemovesItsThreeSocketsAndExitsZero(@TempDir Path dir) throws Exception {
        DevServerConfig c = DevServerConfig.under(dir, TD);
        StringBuffer log = new StringBuffer();
        Process server = meshauth(log, "spire", "dev-server", "--workload-socket", c.workloadSocket().toString(),
                "--admin-socket", c.adminSocket().toString(), "--server-socket", c.serverSocket().toString());
        try {
            eventually("up: " + log, Duration.ofSeconds(30), () -> log.toString().contains("dev SPIRE serving") && Files.exists(c.serverSocket()));
            assertThat(terminate(server)).as(log.toString()).isZero();
            assertThat(log.toString()).contains("dev SPIRE stopped");
            assertThat(List.of(c.workloadSocket(), c.adminSocket(), c.serverSocket())).allSatisfy(p -> assertThat(p).doesNotExist());
        } finally {
            server.destroyForcibly();
        }
    }
}
