package dev.meshauth.agent.status;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.io.IOException;
import java.net.StandardProtocolFamily;
import java.net.UnixDomainSocketAddress;
import java.nio.channels.ServerSocketChannel;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The status socket's file: a live agent keeps it, a dead agent's file is taken over, a client is told which. */
class StatusSocketTest {
    @TempDir
    Path dir;

    /** A socket file nobody listens on, as a killed agent leaves it. */
    private Path staleSocket() throws IOException {
        Path sock = dir.resolve("stale.sock");
        try (ServerSocketChannel ch = ServerSocketChannel.open(StandardProtocolFamily.UNIX)) {
            ch.bind(UnixDomainSocketAddress.of(sock));
        }
        assertThat(sock).exists();
        return sock;
    }

    @Test
    void aClientOfAStaleSocketIsToldNoAgentListens() throws IOException {
        Path sock = staleSocket();
        assertThatThrownBy(() -> new StatusClient(sock).get("/v1/status",
                new com.fasterxml.jackson.core.type.TypeReference<StatusModel.AgentStatus>() { }))
                .isInstanceOf(StatusClient.AgentException.class)
                .hasMessage("no meshauth agent is listening on " + sock + " (a stale socket file): is `meshauth agent` running?");
    }

    @Test
    void aStaleSocketIsTakenOverAndALiveOneIsRefused() throws IOException {
        Path sock = staleSocket();
        try (StatusServer first = StatusServer.start(sock, r -> { throw new IllegalArgumentException("unused"); })) {
            assertThatThrownBy(() -> StatusServer.start(sock, r -> { throw new IllegalArgumentException("unused"); }))
                    .isInstanceOf(IOException.class)
                    .hasMessage("status socket " + sock + " is in use by another running agent: give this one its own"
                            + " --status-socket");
            assertThat(Files.exists(sock)).as("the live agent's socket is left alone").isTrue();
        }
    }
}
