package dev.meshauth.spire.devserver;

import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;

import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Objects;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * Dev server settings, the {@code meshauth spire dev-server} flags.
 *
 * @param trustDomain     trust domain of every SVID
 * @param workloadSocket  Workload API socket
 * @param adminSocket     Delegated Identity API socket; not in the workload socket's directory (SPIRE's rule)
 * @param serverSocket    Entry API socket
 * @param svidTtl         default X509-SVID lifetime (rotation at half of it)
 * @param dataDir         where the CA and the entries persist; empty for in-memory only
 * @param authorizedDelegates SPIRE's {@code authorized_delegates}: whose callers may use the Delegated
 *                        Identity API (callers are attested by their peer credentials, as SPIRE's unix
 *                        attestor does)
 * @param delegateUid     if set, the server registers an entry for each authorized delegate with the selector
 *                        {@code unix:uid:<uid>} at start (what an operator does with {@code spire-server entry
 *                        create}), so an agent running as that user is authorized without further set-up
 * @param maxMessageBytes largest message accepted and sent
 */
public record DevServerConfig(TrustDomain trustDomain, Path workloadSocket, Path adminSocket, Path serverSocket,
        Duration svidTtl, Optional<Path> dataDir, List<SpiffeId> authorizedDelegates, OptionalLong delegateUid,
        int maxMessageBytes) {
    /** The meshauth agent's SPIFFE ID in {@code td}: the default authorized delegate. */
    public static SpiffeId meshauthAgent(TrustDomain td) {
        return SpiffeId.parse(td.toIdString() + "/meshauth-agent");
    }

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
        authorizedDelegates = List.copyOf(authorizedDelegates);
        for (SpiffeId d : authorizedDelegates) {
            if (!d.getTrustDomain().equals(trustDomain)) {
                throw new IllegalArgumentException("error validating authorized delegate: " + d + " is not a member of"
                        + " trust domain " + trustDomain.getName() + " (SPIRE refuses this too)");
            }
        }
    }

    /**
     * Sockets under {@code base}: workload/agent.sock, admin/admin.sock, server/api.sock; the meshauth agent
     * as the one authorized delegate, registered for this process's uid.
     */
    public static DevServerConfig under(Path base, TrustDomain td) {
        return new DevServerConfig(td, base.resolve("workload/agent.sock"), base.resolve("admin/admin.sock"),
                base.resolve("server/api.sock"), Duration.ofHours(1), Optional.empty(), List.of(meshauthAgent(td)),
                OptionalLong.of(dev.meshauth.spire.UnixSelectors.currentUid()), 32 << 20);
    }

    /** A copy with another TTL. */
    public DevServerConfig withSvidTtl(Duration ttl) {
        return new DevServerConfig(trustDomain, workloadSocket, adminSocket, serverSocket, ttl, dataDir, authorizedDelegates,
                delegateUid, maxMessageBytes);
    }

    /** A copy persisting to {@code dir}. */
    public DevServerConfig withDataDir(Path dir) {
        return new DevServerConfig(trustDomain, workloadSocket, adminSocket, serverSocket, svidTtl, Optional.of(dir),
                authorizedDelegates, delegateUid, maxMessageBytes);
    }

    /** A copy authorizing {@code delegates}, registering entries for them only if {@code uid} is set. */
    public DevServerConfig withDelegates(List<SpiffeId> delegates, OptionalLong uid) {
        return new DevServerConfig(trustDomain, workloadSocket, adminSocket, serverSocket, svidTtl, dataDir, delegates, uid,
                maxMessageBytes);
    }
}
