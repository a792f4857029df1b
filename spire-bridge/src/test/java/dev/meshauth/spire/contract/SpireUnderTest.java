package dev.meshauth.spire.contract;

import io.spiffe.spiffeid.SpiffeId;

import java.nio.file.Path;
import java.time.Duration;

/**
 * A SPIRE as the contract test sees it from this process: its sockets, where this process is the
 * meshauth agent ({@code spiffe://spiffe.cilium/meshauth-agent}, registered for its uid).
 */
interface SpireUnderTest extends AutoCloseable {
    /** Starts it. */
    void start() throws Exception;

    /** The server's Entry API socket: local callers are admins. */
    Path entryApi();

    /** A Workload API socket where this process holds the meshauth agent's SVID. */
    Path workloadApi();

    /** An admin socket (Delegated Identity API) where this process is an authorized delegate. */
    Path adminApi();

    /** An admin socket where this process has an entry but is not among {@code authorized_delegates}. */
    Path adminApiNotDelegated();

    /** A parent under which entries reach {@link #adminApi()}'s SVID stream. */
    SpiffeId nodeParent();

    /** How long an entry may take to reach the streams (a real agent syncs on an interval). */
    Duration propagation();

    /** Its logs, for a failure report. */
    String logs();

    @Override
    void close() throws Exception;
}
