package dev.meshauth.spire.local;

import io.spiffe.spiffeid.SpiffeId;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A real {@code spire-agent} for one node: attested with a one-time join token whose node alias is
 * {@code spiffe://<td>/node/<name>} (entries parented to it reach this agent), the {@code unix} workload
 * attestor (callers are known by their peer credentials), a disk key manager (so it restarts without a
 * new token), the Workload API in {@code public/} and the admin socket (Delegated Identity API) in
 * {@code private/}: SPIRE refuses them in one directory.
 */
public final class LocalSpireAgent extends LocalSpireProcess {
    /**
     * How the agent runs.
     *
     * @param name                the node's name; its alias is {@code spiffe://<td>/node/<name>}
     * @param authorizedDelegates {@code authorized_delegates}: who may use the Delegated Identity API
     * @param syncInterval        {@code experimental.sync_interval}; empty: SPIRE's default (5 s)
     * @param logLevel            {@code log_level}
     */
    public record Settings(String name, List<SpiffeId> authorizedDelegates, Optional<Duration> syncInterval,
            String logLevel) {
        /** Checks the name makes a path segment. */
        public Settings {
            if (!name.matches("[a-zA-Z0-9._-]+")) {
                throw new IllegalArgumentException("agent name must be letters, digits, '.', '_' or '-': '" + name + "'");
            }
            authorizedDelegates = List.copyOf(authorizedDelegates);
        }

        /** An agent named {@code name} whose only authorized delegate is {@code delegate}, SPIRE's sync interval. */
        public static Settings of(String name, SpiffeId delegate) {
            return new Settings(name, List.of(delegate), Optional.empty(), "INFO");
        }

        /** A copy with another sync interval. */
        public Settings withSyncInterval(Duration d) {
            return new Settings(name, authorizedDelegates, Optional.of(d), logLevel);
        }
    }

    private final SpireBinaries bin;
    private final Path dir;
    private final Settings settings;
    private final SpiffeId alias;

    private LocalSpireAgent(SpireBinaries bin, Path dir, Settings settings, SpiffeId alias) {
        super(new SpireProcess("spire-agent " + settings.name(), dir.resolve("spire-agent.log")));
        this.bin = bin;
        this.dir = dir;
        this.settings = settings;
        this.alias = alias;
    }

    /**
     * Writes {@code agent.conf} under {@code dir}, attests to {@code server} with a new join token, and waits
     * until {@code spire-agent healthcheck} passes.
     *
     * @throws LocalSpireException if it does not become healthy within 60 s (the message holds its log)
     */
    public static LocalSpireAgent start(SpireBinaries bin, Path dir, Settings settings, LocalSpireServer server)
            throws LocalSpireException {
        SpiffeId alias = SpiffeId.parse(server.settings().trustDomain().toIdString() + "/node/" + settings.name());
        LocalSpireAgent a = new LocalSpireAgent(bin, dir.toAbsolutePath(), settings, alias);
        a.writeConfig(server);
        a.run(Optional.of(server.joinToken(alias)));
        return a;
    }

    private void writeConfig(LocalSpireServer server) throws LocalSpireException {
        Path data = dir.resolve("data");
        String sync = settings.syncInterval().map(d -> "\n  experimental {\n    sync_interval = " + Hcl.str(Hcl.duration(d))
                + "\n  }").orElse("");
        String conf = """
                agent {
                  trust_domain = %s
                  data_dir = %s
                  log_level = %s
                  server_address = "127.0.0.1"
                  server_port = %d
                  socket_path = %s
                  admin_socket_path = %s
                  authorized_delegates = %s
                  trust_bundle_path = %s%s
                }
                plugins {
                  KeyManager "disk" {
                    plugin_data {
                      directory = %s
                    }
                  }
                  NodeAttestor "join_token" {
                    plugin_data {}
                  }
                  WorkloadAttestor "unix" {
                    plugin_data {}
                  }
                }
                """.formatted(Hcl.str(server.settings().trustDomain().getName()), Hcl.str(data), Hcl.str(settings.logLevel()),
                server.address().getPort(), Hcl.str(workloadSocket()), Hcl.str(adminSocket()),
                Hcl.list(settings.authorizedDelegates()), Hcl.str(bootstrapBundle()), sync, Hcl.str(data));
        try {
            Files.createDirectories(data);
            Files.createDirectories(workloadSocket().getParent());
            Files.createDirectories(adminSocket().getParent());
            Files.writeString(bootstrapBundle(), server.bundlePem());
            Files.writeString(configFile(), conf);
        } catch (IOException e) {
            throw new LocalSpireException("cannot write " + configFile() + ": " + e.getMessage(), e);
        }
    }

    private void run(Optional<String> joinToken) throws LocalSpireException {
        List<String> cmd = new ArrayList<>(List.of(bin.agent().toString(), "run", "-config", configFile().toString()));
        joinToken.ifPresent(t -> cmd.addAll(List.of("-joinToken", t)));
        Health.start(process, cmd, this::healthy, "spire-agent healthcheck -socketPath " + workloadSocket());
    }

    /** Starts the process again after {@link #kill()} or {@link #stop()}: its SVID is in its data directory. */
    public void start() throws LocalSpireException {
        run(Optional.empty());
    }

    /** True if {@code spire-agent healthcheck} passes now. */
    public boolean healthy() throws LocalSpireException {
        return SpireCli.run(bin.agent(), List.of("healthcheck", "-socketPath", workloadSocket().toString())).ok();
    }

    /**
     * Waits until this agent's Workload API issues {@code id} to this process ({@code spire-agent api fetch
     * x509}): a new entry reaches an agent only on its next sync with the server.
     *
     * @throws LocalSpireException if it does not within {@code max}, with what the agent last answered
     */
    public void awaitSvid(SpiffeId id, Duration max) throws LocalSpireException {
        String[] last = {""};
        Health.await(process, () -> {
            SpireCli.Result r = SpireCli.run(bin.agent(), List.of("api", "fetch", "x509", "-socketPath",
                    workloadSocket().toString(), "-timeout", "2s"));
            last[0] = (r.out() + r.err()).strip();
            return r.ok() && r.out().lines().anyMatch(l -> l.startsWith("SPIFFE ID:") && l.strip().endsWith(id.toString()));
        }, max, () -> "spire-agent api fetch x509 -socketPath " + workloadSocket() + " (for " + id + "; last answer: "
                + last[0] + ")");
    }




    /** The node's name. */
    public String name() {
        return settings.name();
    }

    /** How it runs. */
    public Settings settings() {
        return settings;
    }

    /** Its node alias: entries parented to it are this agent's. */
    public SpiffeId nodeAlias() {
        return alias;
    }

    /** The Workload API socket ({@code socket_path}). */
    public Path workloadSocket() {
        return dir.resolve("public/api.sock");
    }

    /** The admin socket ({@code admin_socket_path}): the Delegated Identity API. */
    public Path adminSocket() {
        return dir.resolve("private/admin.sock");
    }

    /** {@code agent.conf}. */
    public Path configFile() {
        return dir.resolve("agent.conf");
    }

    private Path bootstrapBundle() {
        return dir.resolve("bootstrap.crt");
    }



}
