package dev.meshauth.agent.status;

import java.time.Instant;
import java.util.List;
import java.util.Map;

/**
 * What the status API serves, as plain data (JSON field names are these component names). Times are
 * UTC instants; an absent value is null in JSON.
 */
public final class StatusModel {
    private StatusModel() {
    }

    /** {@code GET /v1/status}. */
    public record AgentStatus(String node, String version, Instant startedAt, Instant now, Spire spire, String trustDomain,
            List<BundleCa> bundle, Svids svids, Listener listener, Datapath datapath, Auth auth, Policies policies,
            List<String> problems, List<Peer> peers) {
    }

    /**
     * The policies in force.
     *
     * @param count           policies (specs) evaluated
     * @param reservedSkipped auth requests for reserved identities (world, host, ...) skipped, as Cilium skips them
     * @param unenforced      what of them meshauth does not enforce, one "file:line: path: what" per rule part
     */
    public record Policies(int count, long reservedSkipped, List<String> unenforced) {
    }

    /** The SPIRE agent connection. */
    public record Spire(String adminSocket, boolean socketPresent, boolean connected, String lastError, long reconnects,
            long bundleChanges) {
    }

    /** One CA of the trust bundle. */
    public record BundleCa(String fingerprint, String subject, Instant notAfter) {
    }

    /** SVIDs held. */
    public record Svids(int count, Instant earliestExpiry) {
    }

    /** The mutual auth listener. */
    public record Listener(String address, int port, String tlsProvider, long accepted, long refused) {
    }

    /** The datapath and the auth map. */
    public record Datapath(String mode, String authMap, long entries, long maxEntries) {
    }

    /** The auth manager. */
    public record Auth(int required, int held, int pending, int missing, long succeeded, long failed, long queueDropped,
            long coalesced, Map<String, Long> gcDeleted) {
    }

    /** A remote node this node holds entries for, or tried to. */
    public record Peer(String node, int nodeId, String address, int entries, String lastResult, Instant lastAt) {
    }

    /**
     * {@code GET /v1/certs}: one SVID this agent holds.
     *
     * @param hosted whether an endpoint of the identity runs on this node (with the node-scoped registration,
     *               SPIRE issues a node nothing else; with Cilium's cluster-wide one, every node holds every key)
     */
    public record Cert(long identity, String spiffeId, String serial, Instant notBefore, Instant notAfter, Instant rotatesAt,
            String issuer, boolean hosted) {
    }

    /** {@code GET /v1/entries}: one auth entry, with where it came from. */
    public record Entry(long localIdentity, long remoteIdentity, int remoteNodeId, String remoteNode, String authType,
            Instant expiration, String origin, Instant storedAt) {
    }

    /**
     * {@code GET /v1/check}: would this traffic pass, and why.
     *
     * @param verdict    allowed, denied-by-policy, auth-required-missing or auth-expired
     * @param authType   the auth type the policy demands (disabled when none)
     * @param expiration the auth entry's expiry, when there is one
     * @param reason     why, in words
     * @param enforcedOn the node whose datapath decides (and whose agent holds the entry)
     */
    public record Check(String from, String to, int port, String protocol, String verdict, String authType,
            Instant expiration, String reason, String enforcedOn, String enforcedBy) {
    }

    /** One auth event as JSON (and one line of {@code meshauth observe}). */
    public record Event(Instant time, String type, String event, Long localIdentity, Long remoteIdentity, Integer remoteNodeId,
            String authType, String reason, String origin, Double durationMs, Instant expiration, String detail) {
    }
}
