package dev.meshauth.agent.cli;

import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import dev.meshauth.spire.entry.EntryLayout;
import dev.meshauth.spire.entry.EntryRegistrar;
import dev.meshauth.spire.entry.ParentTemplate;
import dev.meshauth.spire.entry.Registration;
import dev.meshauth.spire.entry.EntryRegistrarStubs;
import dev.meshauth.spire.entry.RegistrationSpec;
import dev.meshauth.spire.grpc.UnixSockets;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.Set;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code meshauth operator --once} against the dev server, standalone from an endpoints file. */
class OperatorCliTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");

    @Test
    void registersOneEntryPerIdentityOfTheFileAndRemovesStaleOnes(@TempDir Path dir) throws Exception {
        DevServerConfig config = DevServerConfig.under(dir.resolve("spire"), TD);
        Path endpoints = Files.writeString(dir.resolve("endpoints.yaml"), """
                nodes:
                  - {name: node-1, id: 1, internalIP: 127.0.0.1}
                endpoints:
                  - {name: deathstar, node: node-1, ipv4: 198.18.1.10, identity: 1001, labels: {class: deathstar}}
                  - {name: tiefighter, node: node-1, ipv4: 198.18.1.20, identity: 1002, labels: {class: tiefighter}}
                  - {name: tiefighter-2, node: node-1, ipv4: 198.18.1.21, identity: 1002, labels: {class: tiefighter}}
                """);
        try (DevServer spire = DevServer.start(config, InstantSource.system())) {
            var ch = UnixSockets.channel(config.serverSocket(), 32 << 20);
            new EntryRegistrar(EntryRegistrarStubs.blocking(ch), RegistrationSpec.ciliumDefaults(TD),
                    new EntryLayout.ClusterWide(RegistrationSpec.ciliumOperator(TD))).reconcileIdentities(Set.of(7777L)); // stale
            EntryLayout byNode = new EntryLayout.NodeScoped(new ParentTemplate(ParentTemplate.NODE_ALIAS, TD, "default"),
                    RegistrationSpec.ciliumOperator(TD));
            EntryRegistrar check = new EntryRegistrar(EntryRegistrarStubs.blocking(ch), RegistrationSpec.ciliumDefaults(TD), byNode);

            CliRun r = CliRun.of("operator", "--once", "--spire-server-socket", config.serverSocket().toString(),
                    "--endpoints", endpoints.toString());

            assertThat(r.code()).as(r.err()).isZero();
            assertThat(r.out()).isEqualTo("identities=2 created=2 updated=0 deleted=1 unchanged=0 failures=0 entries=2"
                    + " registration=node\n");
            SpiffeId node1 = SpiffeId.parse("spiffe://spiffe.cilium/node/node-1");
            assertThat(check.owned().keySet()).as("under node-1's alias; the cluster-wide stale entry removed")
                    .containsExactlyInAnyOrder(new Registration(1001, node1), new Registration(1002, node1));
            ch.shutdownNow();
        }
    }

    @Test
    void missingServerSocketSaysWhatToStart(@TempDir Path dir) {
        CliRun r = CliRun.of("operator", "--once", "--spire-server-socket", dir.resolve("nope.sock").toString(),
                "--endpoints", dir.resolve("e.yaml").toString());
        assertThat(r.code()).isEqualTo(ExitCodes.FAILURE);
        assertThat(r.err()).contains("SPIRE server socket not found at").contains("meshauth spire dev-server");
    }
}
