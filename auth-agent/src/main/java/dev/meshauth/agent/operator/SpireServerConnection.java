package dev.meshauth.agent.operator;

import dev.meshauth.spire.SvidException;
import dev.meshauth.spire.agent.AgentIdentity;
import dev.meshauth.spire.grpc.SpiffeTls;
import dev.meshauth.spire.grpc.SpireServerChannels;
import dev.meshauth.spire.grpc.UnixSockets;
import io.grpc.ManagedChannel;
import io.spiffe.bundle.x509bundle.X509Bundle;
import io.spiffe.exception.BundleNotFoundException;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import io.spiffe.workloadapi.X509Source;

import javax.net.ssl.SSLException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.util.Collection;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * The operator's way to the SPIRE server's Entry API: its Unix socket (beside the server), or TCP with
 * mutual TLS using the operator's own SVID from the Workload API (anywhere in the cluster, as Cilium's
 * operator), the server required to be exactly its SPIFFE ID.
 */
public final class SpireServerConnection implements AutoCloseable {
    private static final int MAX_MESSAGE = 32 << 20;

    private final ManagedChannel channel;
    private final Optional<X509Source> identity;
    private final String description;
    private final Optional<Path> socket;

    private SpireServerConnection(ManagedChannel channel, Optional<X509Source> identity, String description,
            Optional<Path> socket) {
        this.channel = channel;
        this.identity = identity;
        this.description = description;
        this.socket = socket;
    }

    /**
     * What a failed Entry API call means, in words: which server, as whom, and what to check. The one
     * place gRPC statuses of the server API are translated.
     */
    public String explain(io.grpc.StatusRuntimeException e) {
        io.grpc.Status st = e.getStatus();
        if (st.getCode() == io.grpc.Status.Code.UNAVAILABLE && socket.isPresent() && Files.exists(socket.get())
                && refused(socket.get())) {
            return "SPIRE server not running at " + socket.get() + ": the socket file is there but nothing listens on it"
                    + " (a server that stopped or crashed); start spire-server, or give its socket with --spire-server-socket";
        }
        String what = st.getCode() + (st.getDescription() == null ? "" : ": " + st.getDescription().lines().findFirst()
                .orElse(""));
        Throwable root = st.getCause();
        while (root != null && root.getCause() != null) {
            root = root.getCause();
        }
        if (root != null && root.getMessage() != null) {
            what += " (" + root.getMessage() + ")"; // the TLS verdict on the server's identity, for one
        }
        return "SPIRE Entry API at " + description + " failed: " + what + switch (st.getCode()) {
            case PERMISSION_DENIED -> identity.isPresent()
                    ? "; over TCP the server admits only callers whose SPIFFE ID is in its admin_ids (or whose entry was"
                            + " created with -admin): add " + callerId() + " to admin_ids in server.conf"
                    : "; is this the SPIRE server's own API socket (socket_path)? Local callers of it are admins";
            case UNAVAILABLE -> "; is the SPIRE server running and reachable there?";
            default -> "";
        };
    }

    /** True if connecting to the Unix socket at {@code path} is refused (a socket file without a server). */
    private static boolean refused(Path path) {
        try (java.nio.channels.SocketChannel ch = java.nio.channels.SocketChannel.open(
                java.net.UnixDomainSocketAddress.of(path))) {
            return false;
        } catch (java.net.ConnectException ex) {
            return true;
        } catch (java.io.IOException ex) {
            return false;
        }
    }

    private String callerId() {
        try {
            return identity.map(s -> s.getX509Svid().getSpiffeId().toString()).orElse("(none)");
        } catch (RuntimeException e) {
            return "this operator's SPIFFE ID";
        }
    }

    /** Over the server's Unix socket; a missing socket is refused with what to check. */
    public static SpireServerConnection socket(Path socket) {
        if (!Files.exists(socket)) {
            throw new IllegalArgumentException("SPIRE server socket not found at " + socket
                    + ": is the SPIRE server (or `meshauth spire dev-server`) running?");
        }
        return new SpireServerConnection(UnixSockets.channel(socket, MAX_MESSAGE), Optional.empty(), socket.toString(),
                Optional.of(socket));
    }

    /**
     * Over TCP with mutual TLS; waits up to 30 s for this operator's SVID.
     *
     * @param address     HOST:PORT of the server API
     * @param agentSocket the Workload API socket of the local SPIRE agent
     * @param serverId    the server's SPIFFE ID; null: {@code spiffe://<td>/spire/server}
     * @throws SvidException if no SVID is issued to this operator in time
     */
    public static SpireServerConnection tcp(String address, Path agentSocket, TrustDomain td, String serverId)
            throws SvidException, SSLException {
        int colon = address.lastIndexOf(':');
        int port;
        try {
            port = Integer.parseInt(address.substring(colon + 1));
            if (colon <= 0 || port <= 0 || port > 65535) {
                throw new NumberFormatException();
            }
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("--spire-server-address must be HOST:PORT, got '" + address + "'");
        }
        SpiffeId expected = SpiffeId.parse(serverId != null ? serverId : td.toIdString() + "/spire/server");
        X509Source source = AgentIdentity.connect(agentSocket, Duration.ofSeconds(30));
        try {
            SpiffeTls.Identity me = new SpiffeTls.Identity(() -> source.getX509Svid().getChain(),
                    () -> source.getX509Svid().getPrivateKey());
            ManagedChannel ch = SpireServerChannels.tls(address.substring(0, colon), port, me, td, () -> roots(source, td),
                    expected, MAX_MESSAGE);
            return new SpireServerConnection(ch, Optional.of(source), address + " as " + source.getX509Svid().getSpiffeId()
                    + " (mTLS, server " + expected + ")", Optional.empty());
        } catch (SSLException | RuntimeException e) {
            try {
                source.close();
            } catch (java.io.IOException closing) {
                e.addSuppressed(closing);
            }
            throw e;
        }
    }

    private static Collection<X509Certificate> roots(X509Source source, TrustDomain td) {
        try {
            X509Bundle b = source.getBundleForTrustDomain(td);
            return b.getX509Authorities();
        } catch (BundleNotFoundException e) {
            return List.of();
        }
    }

    /** The channel. */
    public ManagedChannel channel() {
        return channel;
    }

    /** Where it goes, for messages. */
    public String describe() {
        return description;
    }

    @Override
    public void close() throws InterruptedException {
        channel.shutdownNow().awaitTermination(5, TimeUnit.SECONDS);
        if (identity.isPresent()) {
            try {
                identity.get().close();
            } catch (java.io.IOException e) {
                // closing the Workload API stream: nothing left to do
            }
        }
    }
}
