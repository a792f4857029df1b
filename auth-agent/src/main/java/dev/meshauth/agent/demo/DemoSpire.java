package dev.meshauth.agent.demo;

import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import dev.meshauth.spire.entry.RegistrationSpec;
import dev.meshauth.spire.local.LocalSpire;
import dev.meshauth.spire.local.LocalSpireAgent;
import dev.meshauth.spire.local.LocalSpireException;
import dev.meshauth.spire.local.LocalSpireServer;
import dev.meshauth.spire.local.SpireBinaries;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;

import java.io.IOException;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.function.Consumer;

/**
 * The SPIRE the demo runs against: the embedded dev server (default), or the real {@code spire-server} with
 * one real {@code spire-agent} per node ({@code --spire real}). Everything after the start is the same:
 * the operator registers through {@link #serverSocket()}, each node's agent uses {@link #adminSocket}.
 */
sealed interface DemoSpire extends AutoCloseable {
    /** The server's Entry API socket. */
    Path serverSocket();

    /** The Delegated Identity API socket of {@code node}'s SPIRE agent. */
    Path adminSocket(String node);

    /** How long a new or deleted entry may take to reach the agents. */
    Duration propagation();

    @Override
    void close();

    /** The embedded dev server: one process plays server and every node's agent. */
    record Dev(DevServer server) implements DemoSpire {
        static Dev start(Path dir, TrustDomain td) throws IOException {
            return new Dev(DevServer.start(DevServerConfig.under(dir, td), InstantSource.system()));
        }

        @Override
        public Path serverSocket() {
            return server.config().serverSocket();
        }

        @Override
        public Path adminSocket(String node) {
            return server.config().adminSocket();
        }

        @Override
        public Duration propagation() {
            return Duration.ofSeconds(15);
        }

        @Override
        public void close() {
            server.close();
        }
    }

    /** The real spire-server and one spire-agent per node, with SPIRE's own defaults (agents sync every 5 s). */
    record Real(LocalSpire spire) implements DemoSpire {
        /**
         * Builds SPIRE if it is not cached (saying so through {@code progress}), starts it, and registers on
         * every node what a SPIRE admin would: the meshauth agent (the authorized delegate) and the operator
         * (the parent of identity entries), both for this process's uid.
         *
         * @throws LocalSpireException if SPIRE cannot be built or started, saying what to do
         */
        static Real start(Path dir, TrustDomain td, List<String> nodes, Consumer<String> progress) throws LocalSpireException {
            SpireBinaries bin = SpireBinaries.find(home(), true, progress);
            SpiffeId agent = DevServerConfig.meshauthAgent(td);
            SpiffeId operator = RegistrationSpec.ciliumOperator(td);
            LocalSpire spire = LocalSpire.start(bin, dir, LocalSpireServer.Settings.defaults(td),
                    nodes.stream().map(n -> LocalSpireAgent.Settings.of(n, agent)).toList());
            try {
                spire.registerMeshauth(agent, operator, Duration.ofSeconds(30));
                return new Real(spire);
            } catch (LocalSpireException | RuntimeException e) {
                spire.close();
                throw e;
            }
        }

        /** The meshauth checkout: the launcher says where it is; else the working directory's. */
        private static Path home() throws LocalSpireException {
            Optional<Path> home = Optional.ofNullable(System.getProperty("meshauth.home")).map(Path::of)
                    .or(() -> SpireBinaries.repository(Path.of("")));
            if (home.isEmpty() && System.getenv(SpireBinaries.ENV) == null) {
                throw new LocalSpireException("--spire real builds SPIRE with interop/spire/build.sh of a meshauth checkout:"
                        + " run ./meshauth from one, or set " + SpireBinaries.ENV + " to a directory with spire-server and"
                        + " spire-agent");
            }
            return home.orElse(Path.of(""));
        }

        @Override
        public Path serverSocket() {
            return spire.server().apiSocket();
        }

        @Override
        public Path adminSocket(String node) {
            return spire.agent(node).adminSocket();
        }

        @Override
        public Duration propagation() {
            return Duration.ofSeconds(30); // an entry reaches an agent on its next sync, every 5 s by default
        }

        @Override
        public void close() {
            spire.close();
        }
    }
}
