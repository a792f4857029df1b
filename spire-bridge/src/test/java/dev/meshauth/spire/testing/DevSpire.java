package dev.meshauth.spire.testing;

import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import dev.meshauth.spire.grpc.UnixSockets;
import io.grpc.ManagedChannel;
import io.spiffe.spiffeid.TrustDomain;
import spire.api.server.entry.v1.EntryGrpc;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.InstantSource;
import java.util.concurrent.TimeUnit;

/** A dev SPIRE server in a temporary directory, with an Entry API stub; closes and deletes everything. */
public final class DevSpire implements AutoCloseable {
    public static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");

    private final Path dir;
    private DevServer server;
    private final ManagedChannel entryChannel;
    private final InstantSource clock;
    private final DevServerConfig config;
    private final java.util.Optional<java.util.concurrent.ScheduledExecutorService> rotation;

    private DevSpire(Path dir, DevServerConfig config, InstantSource clock,
            java.util.Optional<java.util.concurrent.ScheduledExecutorService> rotation) throws IOException {
        this.dir = dir;
        this.clock = clock;
        this.config = config;
        this.rotation = rotation;
        this.server = serve();
        this.entryChannel = UnixSockets.channel(config.serverSocket(), 64 << 20);
    }

    /** Starts one. */
    public static DevSpire start(InstantSource clock) throws IOException {
        Path dir = Files.createTempDirectory("meshauth-devspire");
        return new DevSpire(dir, DevServerConfig.under(dir, TD).withDataDir(dir.resolve("data")), clock,
                java.util.Optional.empty());
    }

    /** Starts one whose rotation tick is timed by {@code rotation} (a fake clock's scheduler). */
    public static DevSpire start(InstantSource clock, java.util.concurrent.ScheduledExecutorService rotation)
            throws IOException {
        Path dir = Files.createTempDirectory("meshauth-devspire");
        return new DevSpire(dir, DevServerConfig.under(dir, TD).withDataDir(dir.resolve("data")), clock,
                java.util.Optional.of(rotation));
    }

    private DevServer serve() throws IOException {
        return rotation.isPresent() ? DevServer.start(config, clock, rotation.get()) : DevServer.start(config, clock);
    }

    /** The running server. */
    public DevServer server() {
        return server;
    }

    /** Stops and starts the server on the same sockets and data directory (streams break). */
    public void restart() throws IOException {
        server.close();
        server = serve();
    }

    /** Stops the server only. */
    public void stop() {
        server.close();
    }

    /** Starts it again after {@link #stop}. */
    public void startAgain() throws IOException {
        server = serve();
    }

    /** Entry API. */
    public EntryGrpc.EntryBlockingStub entries() {
        return EntryGrpc.newBlockingStub(entryChannel);
    }

    /** Config. */
    public DevServerConfig config() {
        return config;
    }

    @Override
    public void close() throws IOException, InterruptedException {
        entryChannel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        server.close();
        TempDirs.delete(dir);
    }
}
