package dev.meshauth.agent.node;

import dev.meshauth.agent.events.GcReason;
import dev.meshauth.agent.cli.Main;
import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Optional;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The agent follows edits of its files without a restart: a new pair is authenticated, an endpoint
 * removed takes its entry with it at once (not at the next GC interval), and an edit that does not parse
 * changes nothing and is reported by the status API.
 */
class FileWatchAgentTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");


    @Test
    void editsApplyWithoutARestartAndABadEditKeepsTheLastGoodState(@TempDir Path dir) throws Exception {
        StarWarsFiles files = StarWarsFiles.write(dir, false);
        String original = Files.readString(files.endpoints());
        // Register the identities of both versions of the file (1001, 1002 now; 1004 after the edit).
        Path all = Files.writeString(dir.resolve("all.yaml"), original
                + "  - {name: tiefighter2, node: node-2, ipv4: 198.18.2.21, identity: 1004, labels: {org: empire, class: tiefighter}}\n");
        DevServerConfig sc = DevServerConfig.under(dir.resolve("spire"), TD);
        try (DevServer spire = DevServer.start(sc, InstantSource.system())) {
            assertThat(Main.run("operator", "--once", "--spire-server-socket", sc.serverSocket().toString(), "--endpoints",
                    all.toString())).isZero();
            try (Agent a1 = Agent.start(files.memoryAgent("node-1", sc.adminSocket(), Optional.empty(), Optional.empty()),
                    InstantSource.system());
                    Agent a2 = Agent.start(files.memoryAgent("node-2", sc.adminSocket(), Optional.empty(), Optional.empty()),
                            InstantSource.system())) {
                AuthKey tie = new AuthKey(1001, 1002, 2, AuthType.SPIRE);
                AuthKey tie2 = new AuthKey(1001, 1004, 2, AuthType.SPIRE);
                eventually("a1.manager().held().stream().anyMatch(h -> h.key().equals(tie))", Duration.ofSeconds(15),
                        () -> a1.manager().held().stream().anyMatch(h -> h.key().equals(tie)));

                // A second empire ship appears: authenticated without a restart.
                Files.writeString(files.endpoints(), Files.readString(all));
                eventually("a1.manager().held().stream().anyMatch(h -> h.key().equals(tie2))", Duration.ofSeconds(15),
                        () -> a1.manager().held().stream().anyMatch(h -> h.key().equals(tie2)));

                // The first one goes: its entry is deleted at once, not at the next GC interval (1 h here).
                Files.writeString(files.endpoints(), Files.readString(all).replace(
                        "  - {name: tiefighter, node: node-2, ipv4: 198.18.2.20, identity: 1002, labels: {org: empire, class: tiefighter}}\n", ""));
                eventually("a1.manager().held().stream().noneMatch(h -> h.key().equals(tie))", Duration.ofSeconds(15),
                        () -> a1.manager().held().stream().noneMatch(h -> h.key().equals(tie)));
                assertThat(a1.events().recent()).anyMatch(e -> e instanceof AuthEvent.EntryDeleted d && d.key().equals(tie)
                        && (d.reason() == GcReason.IDENTITY_DELETED || d.reason() == GcReason.NOT_REQUIRED));

                // A broken edit: refused, reported, nothing changes.
                Files.writeString(files.policy(), Files.readString(files.policy()).replace("required", "requird"));
                eventually("!a1.view().sourceProblems().isEmpty()", Duration.ofSeconds(15),
                        () -> !a1.view().sourceProblems().isEmpty());
                assertThat(a1.view().sourceProblems().values()).singleElement().asString().contains("did you mean 'required'");
                Thread.sleep(500);
                assertThat(a1.manager().held()).singleElement().satisfies(h -> assertThat(h.key()).isEqualTo(tie2));
                assertThat(new AgentStatusApi(a1.view()).status(false).problems()).anyMatch(p -> p.startsWith("refused (last good state kept)"));
            }
        }
    }
}
