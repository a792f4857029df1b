package dev.meshauth.spire.contract;

import dev.meshauth.spire.testing.RealSpire;
import io.spiffe.spiffeid.SpiffeId;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;

/**
 * The real spire-server with two agents: node-1 authorizes the meshauth agent; node-2 authorizes only
 * someone else (this process is registered there too, as the meshauth agent).
 */
final class RealSpireUnderTest implements SpireUnderTest {
    private final RealSpire spire = RealSpire.nodes("node-1")
            .node("node-2", List.of(SpiffeId.parse("spiffe://spiffe.cilium/someone-else")))
            .build();

    @Override
    public void start() throws Exception {
        spire.start();
    }

    @Override
    public Path entryApi() {
        return spire.server().apiSocket();
    }

    @Override
    public Path workloadApi() {
        return spire.agent("node-1").workloadSocket();
    }

    @Override
    public Path adminApi() {
        return spire.agent("node-1").adminSocket();
    }

    @Override
    public Path adminApiNotDelegated() {
        return spire.agent("node-2").adminSocket();
    }

    @Override
    public SpiffeId nodeParent() {
        return spire.agent("node-1").nodeAlias();
    }

    @Override
    public Duration propagation() {
        return Duration.ofSeconds(30); // agents sync every second here; the first sync after start can take longer
    }

    @Override
    public String logs() {
        return spire.spire() == null ? "(not started)" : spire.spire().logs(150);
    }

    @Override
    public void close() throws Exception {
        spire.close();
    }

    @Override
    public String toString() {
        return "real-spire";
    }
}
