package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.node.source.SourceConfig;
import io.spiffe.spiffeid.TrustDomain;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.List;
import java.util.Optional;

/** The Star Wars cast on two nodes and the guide's policy with authentication, as files for an agent. */
public record StarWarsFiles(Path endpoints, Path policy, int port) {
    /** Writes the files under {@code dir}; the port is free on loopback. */
    public static StarWarsFiles write(Path dir, boolean withXwing) throws IOException {
        int port;
        try (ServerSocket probe = new ServerSocket(0)) {
            port = probe.getLocalPort(); // free on 127.0.0.1; 127.0.0.2 shares the loopback interface
        }
        Path endpoints = Files.writeString(dir.resolve("endpoints.yaml"), """
                nodes:
                  - {name: node-1, id: 1, internalIP: 127.0.0.1}
                  - {name: node-2, id: 2, internalIP: 127.0.0.2}
                endpoints:
                  - {name: deathstar, node: node-1, ipv4: 198.18.1.10, identity: 1001, labels: {org: empire, class: deathstar}}
                  - {name: tiefighter, node: node-2, ipv4: 198.18.2.20, identity: 1002, labels: {org: empire, class: tiefighter}}
                """ + (withXwing
                ? "  - {name: xwing, node: node-2, ipv4: 198.18.2.30, identity: 1003, labels: {org: alliance, class: xwing}}\n"
                : ""));
        Path policy = Files.writeString(dir.resolve("sw.yaml"), """
                apiVersion: cilium.io/v2
                kind: CiliumNetworkPolicy
                metadata: {name: rule1}
                spec:
                  endpointSelector: {matchLabels: {org: empire, class: deathstar}}
                  ingress:
                  - fromEndpoints: [{matchLabels: {org: empire}}]
                    authentication: {mode: required}
                    toPorts: [{ports: [{port: "80", protocol: TCP}]}]
                """);
        return new StarWarsFiles(endpoints, policy, port);
    }

    /**
     * An agent of {@code node} on these files with the in-memory map and quick retries (tests), with a
     * status socket and metrics when given.
     */
    public AgentConfig memoryAgent(String node, Path spireAdminSocket, Optional<Path> statusSocket,
            Optional<InetSocketAddress> metrics) {
        AuthManagerOptions opts = new AuthManagerOptions(1024, Duration.ofSeconds(1), 4, Duration.ofMillis(100),
                Duration.ofSeconds(1), Duration.ofMinutes(1));
        return new AgentConfig(node, new SourceConfig.Files(endpoints, List.of(policy), Optional.empty()), spireAdminSocket,
                TrustDomain.parse("spiffe.cilium"), port, Optional.empty(), false, Duration.ofHours(1), opts,
                Duration.ofSeconds(5), statusSocket, metrics);
    }
}
