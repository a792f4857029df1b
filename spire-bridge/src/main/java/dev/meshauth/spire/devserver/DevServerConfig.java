package dev.meshauth.spire.devserver;

import io.spiffe.spiffeid.TrustDomain;
import spire.api.types.SelectorOuterClass.Selector;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;

/**
 * Dev server settings, the {@code meshauth spire dev-server} flags.
 *
 * @param trustDomain     trust domain of every SVID
 * @param workloadSocket  Workload API socket
 * @param adminSocket     Delegated Identity API socket; not in the workload socket's directory (SPIRE's rule)
 * @param serverSocket    Entry API socket
 * @param svidTtl         default X509-SVID lifetime (rotation at half of it)
 * @param dataDir         where the CA and the entries persist; empty for in-memory only
 * @param callerSelectors selectors of whoever calls the Workload API socket
 * @param maxMessageBytes largest message accepted and sent
 */
public record DevServerConfig(TrustDomain trustDomain, Path workloadSocket, Path adminSocket, Path serverSocket,
        Duration svidTtl, Optional<Path> dataDir, List<Selector> callerSelectors, int maxMessageBytes) {

    /** Checks SPIRE's socket placement rule and sane durations. */
    public DevServerConfig {
        Objects.requireNonNull(trustDomain, "trustDomain");
        Path workloadDir = workloadSocket.toAbsolutePath().getParent();
        Path adminAbs = adminSocket.toAbsolutePath();
        if (adminAbs.startsWith(workloadDir)) {
            throw new IllegalArgumentException("admin socket " + adminSocket + " cannot be in the same directory or a"
                    + " subdirectory as that containing the Workload API socket " + workloadSocket
                    + " (SPIRE refuses this too)");
        }
        if (svidTtl.compareTo(Duration.ofSeconds(2)) < 0) {
            throw new IllegalArgumentException("svid TTL must be at least 2s, got " + svidTtl);
        }
        callerSelectors = List.copyOf(callerSelectors);
    }

    /** Sockets under {@code base}: workload/agent.sock, admin/admin.sock, server/api.sock. */
    public static DevServerConfig under(Path base, TrustDomain td) {
        long uid = currentUid();
        return new DevServerConfig(td, base.resolve("workload/agent.sock"), base.resolve("admin/admin.sock"),
                base.resolve("server/api.sock"), Duration.ofHours(1), Optional.empty(),
                List.of(Selector.newBuilder().setType("unix").setValue("uid:" + uid).build()), 32 << 20);
    }

    /** A copy with another TTL. */
    public DevServerConfig withSvidTtl(Duration ttl) {
        return new DevServerConfig(trustDomain, workloadSocket, adminSocket, serverSocket, ttl, dataDir, callerSelectors,
                maxMessageBytes);
    }

    /** A copy persisting to {@code dir}. */
    public DevServerConfig withDataDir(Path dir) {
        return new DevServerConfig(trustDomain, workloadSocket, adminSocket, serverSocket, svidTtl, Optional.of(dir),
                callerSelectors, maxMessageBytes);
    }

    static long currentUid() {
        try {
            return (Integer) java.nio.file.Files.getAttribute(Path.of("/proc/self"), "unix:uid");
        } catch (java.io.IOException | UnsupportedOperationException e) {
            return 0;
        }
    }
}
