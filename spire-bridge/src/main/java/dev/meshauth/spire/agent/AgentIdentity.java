package dev.meshauth.spire.agent;

import dev.meshauth.spire.SvidException;
import dev.meshauth.spire.SvidRule;
import io.spiffe.exception.SocketEndpointAddressException;
import io.spiffe.exception.X509SourceException;
import io.spiffe.workloadapi.DefaultX509Source;
import io.spiffe.workloadapi.X509Source;

import java.nio.file.Path;
import java.time.Duration;

/**
 * The node agent's own identity from the Workload API, through java-spiffe's {@link DefaultX509Source}
 * (the same client any SPIFFE workload uses), with a bounded wait instead of java-spiffe's default of
 * waiting forever.
 */
public final class AgentIdentity {
    private AgentIdentity() {
    }

    /**
     * Connects to the Workload API at {@code socket} and waits up to {@code timeout} (whole seconds,
     * at least 1: java-spiffe rounds down) for an X509-SVID.
     *
     * @throws SvidException if no identity is issued in time, saying what to check
     */
    public static X509Source connect(Path socket, Duration timeout) throws SvidException {
        Duration wait = timeout.getSeconds() < 1 ? Duration.ofSeconds(1) : timeout;
        try {
            return DefaultX509Source.newSource(DefaultX509Source.X509SourceOptions.builder()
                    .spiffeSocketPath("unix:" + socket.toAbsolutePath())
                    .initTimeout(wait)
                    .build());
        } catch (X509SourceException | SocketEndpointAddressException | RuntimeException e) {
            throw new SvidException(SvidRule.NO_IDENTITY, "no X509-SVID from the Workload API at " + socket + " within "
                    + wait.toSeconds() + "s (" + e.getMessage() + "): is the SPIRE agent running, and is there a"
                    + " registration entry whose selectors match this process?", e);
        }
    }
}
