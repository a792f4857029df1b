package dev.meshauth.spire.contract;

import dev.meshauth.spire.UnixSelectors;
import dev.meshauth.spire.WireIds;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import dev.meshauth.spire.grpc.UnixSockets;
import dev.meshauth.spire.testing.RealSpire;
import io.grpc.ManagedChannel;
import io.spiffe.spiffeid.SpiffeId;
import spire.api.server.entry.v1.EntryGrpc;
import spire.api.server.entry.v1.EntryOuterClass.BatchCreateEntryRequest;
import spire.api.types.EntryOuterClass.Entry;

import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.OptionalLong;

/**
 * The embedded dev server: one that authorizes the meshauth agent (registered for this uid by the
 * server itself), and a second whose only delegate is someone else, where this process also has an entry.
 */
final class DevSpireUnderTest implements SpireUnderTest {
    private Path dir;
    private DevServer main;
    private DevServer notDelegated;

    @Override
    public void start() throws Exception {
        dir = Files.createTempDirectory("meshauth-contract-dev", PosixFilePermissions.asFileAttribute(
                PosixFilePermissions.fromString("rwxr-xr-x")));
        main = DevServer.start(DevServerConfig.under(dir.resolve("main"), RealSpire.TD), InstantSource.system());
        DevServerConfig other = DevServerConfig.under(dir.resolve("other"), RealSpire.TD)
                .withDelegates(List.of(SpiffeId.parse("spiffe://spiffe.cilium/someone-else")), OptionalLong.empty());
        notDelegated = DevServer.start(other, InstantSource.system());
        ManagedChannel ch = UnixSockets.channel(other.serverSocket(), 4 << 20);
        try {
            Entry mine = Entry.newBuilder().setSpiffeId(WireIds.toProto(RealSpire.MESHAUTH_AGENT))
                    .setParentId(WireIds.toProto(nodeParent())).addSelectors(UnixSelectors.uid(UnixSelectors.currentUid()))
                    .build();
            int code = EntryGrpc.newBlockingStub(ch).batchCreateEntry(BatchCreateEntryRequest.newBuilder().addEntries(mine)
                    .build()).getResults(0).getStatus().getCode();
            if (code != 0) {
                throw new IllegalStateException("registering this process on the second dev server failed: code " + code);
            }
        } finally {
            ch.shutdownNow();
        }
    }

    @Override
    public Path entryApi() {
        return main.config().serverSocket();
    }

    @Override
    public Path workloadApi() {
        return main.config().workloadSocket();
    }

    @Override
    public Path adminApi() {
        return main.config().adminSocket();
    }

    @Override
    public Path adminApiNotDelegated() {
        return notDelegated.config().adminSocket();
    }

    @Override
    public SpiffeId nodeParent() {
        return SpiffeId.parse("spiffe://spiffe.cilium/node/node-1");
    }

    @Override
    public Duration propagation() {
        return Duration.ofSeconds(5);
    }

    @Override
    public String logs() {
        return "(the dev server logs through this JVM's own log)";
    }

    @Override
    public void close() throws Exception { // twice: JUnit also closes AutoCloseable class parameters
        if (notDelegated != null) {
            notDelegated.close();
            notDelegated = null;
        }
        if (main != null) {
            main.close();
            main = null;
        }
        if (dir != null) {
            dev.meshauth.spire.testing.TempDirs.delete(dir);
            dir = null;
        }
    }

    @Override
    public String toString() {
        return "dev-server";
    }
}
