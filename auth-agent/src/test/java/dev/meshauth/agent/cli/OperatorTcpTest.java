package dev.meshauth.agent.cli;

import dev.meshauth.spire.WireIds;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import dev.meshauth.spire.grpc.UnixSockets;
import io.grpc.ManagedChannel;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;
import spire.api.server.entry.v1.EntryGrpc;
import spire.api.server.entry.v1.EntryOuterClass.BatchCreateEntryRequest;
import spire.api.server.entry.v1.EntryOuterClass.ListEntriesRequest;
import spire.api.types.EntryOuterClass.Entry;

import java.net.InetSocketAddress;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.List;
import java.util.Set;
import java.util.concurrent.TimeUnit;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code meshauth operator --spire-server-address}: the Entry API over TCP with mutual TLS, as Cilium's
 * operator reaches SPIRE: the operator's own SVID from the Workload API, the server's SPIFFE ID checked,
 * and the server's admin_ids deciding who may register entries.
 */
class OperatorTcpTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    private static final SpiffeId OPERATOR = SpiffeId.parse("spiffe://spiffe.cilium/meshauth-operator");

    private static List<String> identityEntries(ManagedChannel ch) {
        return EntryGrpc.newBlockingStub(ch).listEntries(ListEntriesRequest.newBuilder().build()).getEntriesList().stream()
                .map(e -> e.getSpiffeId().getPath()).filter(p -> p.startsWith("/identity/")).sorted().toList();
    }

    @Test
    void theOperatorRegistersOverMutualTlsOnlyAsAnAdminAndOnlyWithTheRealServer(@TempDir Path dir) throws Exception {
        Path endpoints = Files.writeString(dir.resolve("endpoints.yaml"), """
                nodes:
                  - {name: node-1, id: 1, internalIP: 127.0.0.1}
                endpoints:
                  - {name: a, node: node-1, ipv4: 198.18.1.10, identity: 1001, labels: {app: a}}
                  - {name: b, node: node-1, ipv4: 198.18.1.11, identity: 1002, labels: {app: b}}
                """);
        // This process is the operator only: no delegate entry, so the Workload API issues it one SVID.
        DevServerConfig config = DevServerConfig.under(dir.resolve("spire"), TD)
                .withDelegates(List.of(DevServerConfig.meshauthAgent(TD)), java.util.OptionalLong.empty());
        try (DevServer spire = DevServer.start(config, InstantSource.system())) {
            ManagedChannel local = UnixSockets.channel(config.serverSocket(), 32 << 20);
            try {
                // The operator's own entry: the Workload API issues it to this process (its selectors).
                Entry op = Entry.newBuilder().setSpiffeId(WireIds.toProto(OPERATOR))
                        .setParentId(WireIds.toProto(SpiffeId.parse("spiffe://spiffe.cilium/node")))
                        .addSelectors(dev.meshauth.spire.UnixSelectors.uid(dev.meshauth.spire.UnixSelectors.currentUid()))
                        .build();
                assertThat(EntryGrpc.newBlockingStub(local).batchCreateEntry(BatchCreateEntryRequest.newBuilder()
                        .addEntries(op).build()).getResults(0).getStatus().getCode()).isZero();
                int adminPort = spire.serveTcp(new InetSocketAddress("127.0.0.1", 0), Set.of(OPERATOR));
                int otherPort = spire.serveTcp(new InetSocketAddress("127.0.0.1", 0),
                        Set.of(SpiffeId.parse("spiffe://spiffe.cilium/someone-else")));

                CliRun ok = CliRun.of("operator", "--once", "--spire-server-address", "127.0.0.1:" + adminPort,
                        "--spire-agent-socket", config.workloadSocket().toString(), "--endpoints", endpoints.toString());
                assertThat(ok.code()).as(ok.err()).isZero();
                assertThat(ok.out()).contains("identities=2 created=2");
                assertThat(identityEntries(local)).containsExactly("/identity/1001", "/identity/1002");

                CliRun denied = CliRun.of("operator", "--once", "--spire-server-address", "127.0.0.1:" + otherPort,
                        "--spire-agent-socket", config.workloadSocket().toString(), "--endpoints", endpoints.toString());
                assertThat(denied.code()).isEqualTo(ExitCodes.FAILURE);
                assertThat(denied.err()).contains("PERMISSION_DENIED: authorization denied for method"
                        + " /spire.api.server.entry.v1.Entry/ListEntries").contains("add " + OPERATOR + " to admin_ids");

                CliRun impostor = CliRun.of("operator", "--once", "--spire-server-address", "127.0.0.1:" + adminPort,
                        "--spire-server-id", "spiffe://spiffe.cilium/not-the-server",
                        "--spire-agent-socket", config.workloadSocket().toString(), "--endpoints", endpoints.toString());
                assertThat(impostor.code()).isEqualTo(ExitCodes.FAILURE);
                assertThat(impostor.err()).contains("UNAVAILABLE")
                        .contains("server presented spiffe://spiffe.cilium/spire/server, expected the SPIRE server spiffe://spiffe.cilium/not-the-server");

                CliRun both = CliRun.of("operator", "--once", "--spire-server-address", "127.0.0.1:" + adminPort,
                        "--spire-server-socket", config.serverSocket().toString(), "--endpoints", endpoints.toString());
                assertThat(both.err()).contains("give exactly one way to the SPIRE server");
            } finally {
                local.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
            }
        }
    }
}
