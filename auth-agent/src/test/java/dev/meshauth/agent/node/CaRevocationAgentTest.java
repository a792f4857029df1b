package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManager;
import dev.meshauth.agent.events.GcReason;
import dev.meshauth.agent.cli.Main;
import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.handshake.TrustAnchors;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.spire.devserver.DevCa;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.Optional;
import java.util.Set;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * SPIRE revokes its CA: the entry authenticated under the old root is deleted as soon as the bundle loses
 * it ({@code ca-removed}), and the pair is authenticated again under the new root, with real SVIDs, real
 * TLS, and the bundle and SVID streams racing as they do.
 */
class CaRevocationAgentTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    private static final AuthKey PAIR = new AuthKey(1001, 1002, 2, AuthType.SPIRE);


    private static Optional<AuthManager.Held> held(Agent a) throws dev.meshauth.bpf.BpfException {
        return a.manager().held().stream().filter(h -> h.key().equals(PAIR)).findFirst();
    }

    @Test
    void entriesOfARevokedCaGoAtOnceAndComeBackUnderTheNewOne(@TempDir Path dir) throws Exception {
        StarWarsFiles files = StarWarsFiles.write(dir, false);
        DevServerConfig sc = DevServerConfig.under(dir.resolve("spire"), TD);
        try (DevServer spire = DevServer.start(sc, InstantSource.system())) {
            assertThat(Main.run("operator", "--once", "--spire-server-socket", sc.serverSocket().toString(), "--endpoints",
                    files.endpoints().toString())).isZero();
            try (Agent a1 = Agent.start(files.memoryAgent("node-1", sc.adminSocket(), Optional.empty(), Optional.empty()),
                    InstantSource.system());
                    Agent a2 = Agent.start(files.memoryAgent("node-2", sc.adminSocket(), Optional.empty(), Optional.empty()),
                            InstantSource.system())) {
                String oldRoot = TrustAnchors.fingerprint(spire.ca().certificate());
                eventually("held(a1).isPresent()", Duration.ofSeconds(20), () -> held(a1).isPresent());
                assertThat(held(a1).get().anchors()).containsExactly(oldRoot);

                DevCa next = spire.revokeCa();
                String newRoot = TrustAnchors.fingerprint(next.certificate());
                eventually("a1.events().recent().stream().anyMatch(e -> e instanceof AuthEvent.EntryDeleted d && d....", Duration.ofSeconds(20),
                        () -> a1.events().recent().stream().anyMatch(e -> e instanceof AuthEvent.EntryDeleted d
                        && d.key().equals(PAIR) && d.reason() == GcReason.CA_REMOVED));
                eventually("held(a1).map(h -> h.anchors().equals(Set.of(newRoot))).orElse(false)", Duration.ofSeconds(20),
                        () -> held(a1).map(h -> h.anchors().equals(Set.of(newRoot))).orElse(false));
            }
        }
    }
}
