package dev.meshauth.agent.cli;

import dev.meshauth.agent.status.StatusClient;
import picocli.CommandLine.Option;

import java.nio.file.Path;

/** {@code --status-socket}: which agent a command talks to (two agents on one machine: two sockets). */
final class AgentSocket {
    /** The default socket of {@code meshauth agent}. */
    static final String DEFAULT = "/var/run/meshauth/agent.sock";

    @Option(names = "--status-socket", paramLabel = "PATH", defaultValue = DEFAULT,
            description = "The agent's status socket (default: ${DEFAULT-VALUE}).")
    Path socket;

    StatusClient client() {
        return new StatusClient(socket);
    }
}
