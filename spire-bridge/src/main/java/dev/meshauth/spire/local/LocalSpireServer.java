package dev.meshauth.spire.local;

import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * A real {@code spire-server} on this host: sqlite datastore and disk key manager under its directory,
 * the {@code join_token} node attestor, the API on a Unix socket (where callers are admins) and on a
 * loopback TCP port (mutual TLS, {@code admin_ids}). Started and stopped as a child process; restarting
 * keeps its data, port and CA.
 */
public final class LocalSpireServer extends LocalSpireProcess {
    private static final Pattern TOKEN = Pattern.compile("(?m)^Token:\\s*(\\S+)");
    private static final Pattern ENTRY_ID = Pattern.compile("(?m)^Entry ID\\s*:\\s*(\\S+)");

    /**
     * How the server runs.
     *
     * @param trustDomain        its trust domain
     * @param caTtl              {@code ca_ttl}
     * @param defaultX509SvidTtl {@code default_x509_svid_ttl}
     * @param adminIds           {@code admin_ids}: callers over TCP allowed to use the admin APIs
     * @param logLevel           {@code log_level}
     * @param cacheReloadInterval {@code experimental.cache_reload_interval}: how often the server rebuilds the
     *                           entries it serves agents (SPIRE's default, when empty: 5 s); a new entry reaches
     *                           agents only after it
     */
    public record Settings(TrustDomain trustDomain, Duration caTtl, Duration defaultX509SvidTtl, List<SpiffeId> adminIds,
            String logLevel, Optional<Duration> cacheReloadInterval) {
        /** Checks what SPIRE would refuse or warn about. */
        public Settings {
            adminIds = List.copyOf(adminIds);
            if (defaultX509SvidTtl.compareTo(caTtl) >= 0) {
                throw new IllegalArgumentException("default_x509_svid_ttl " + defaultX509SvidTtl + " must be shorter than ca_ttl "
                        + caTtl);
            }
            for (SpiffeId id : adminIds) {
                if (!id.getTrustDomain().equals(trustDomain)) {
                    throw new IllegalArgumentException("admin ID " + id + " is not in trust domain " + trustDomain.getName());
                }
            }
        }

        /** SPIRE's own defaults (CA 24 h, SVIDs 1 h), no admin IDs, log level INFO. */
        public static Settings defaults(TrustDomain td) {
            return new Settings(td, Duration.ofHours(24), Duration.ofHours(1), List.of(), "INFO", Optional.empty());
        }

        /** A copy with other TTLs. */
        public Settings withTtls(Duration ca, Duration svid) {
            return new Settings(trustDomain, ca, svid, adminIds, logLevel, cacheReloadInterval);
        }

        /** A copy with {@code admin_ids}. */
        public Settings withAdminIds(List<SpiffeId> ids) {
            return new Settings(trustDomain, caTtl, defaultX509SvidTtl, ids, logLevel, cacheReloadInterval);
        }

        /** A copy with another {@code experimental.cache_reload_interval}. */
        public Settings withCacheReloadInterval(Duration d) {
            return new Settings(trustDomain, caTtl, defaultX509SvidTtl, adminIds, logLevel, Optional.of(d));
        }
    }

    private final SpireBinaries bin;
    private final Path dir;
    private final Settings settings;
    private final int port;

    private LocalSpireServer(SpireBinaries bin, Path dir, Settings settings, int port) {
        super(new SpireProcess("spire-server", dir.resolve("spire-server.log")));
        this.bin = bin;
        this.dir = dir;
        this.settings = settings;
        this.port = port;
    }

    /**
     * Writes {@code server.conf} under {@code dir}, starts the server and waits until
     * {@code spire-server healthcheck} passes.
     *
     * @throws LocalSpireException if it does not become healthy within 60 s (the message holds its log)
     */
    public static LocalSpireServer start(SpireBinaries bin, Path dir, Settings settings) throws LocalSpireException {
        LocalSpireServer s = new LocalSpireServer(bin, dir.toAbsolutePath(), settings, freePort());
        s.writeConfig();
        s.start();
        return s;
    }

    private static int freePort() throws LocalSpireException {
        try (ServerSocket probe = new ServerSocket(0, 1, java.net.InetAddress.getLoopbackAddress())) {
            return probe.getLocalPort();
        } catch (IOException e) {
            throw new LocalSpireException("no free loopback port for the SPIRE server: " + e.getMessage(), e);
        }
    }

    /**
     * With the short workload SVIDs of a test (under 5 min), the agents' own SVIDs still live
     * {@code min(1h, ca_ttl/2)} ({@code agent_ttl}): a spire-agent stopped for longer than a workload SVID
     * lives can start again without a new join token, as in production where agent SVIDs live an hour.
     */
    private String agentTtl() {
        if (settings.defaultX509SvidTtl().compareTo(Duration.ofMinutes(5)) >= 0) {
            return "";
        }
        Duration half = settings.caTtl().dividedBy(2);
        Duration ttl = half.compareTo(Duration.ofHours(1)) < 0 ? half : Duration.ofHours(1);
        return "\n  agent_ttl = " + Hcl.str(Hcl.duration(ttl));
    }

    private void writeConfig() throws LocalSpireException {
        Path data = dir.resolve("data");
        String conf = """
                server {
                  bind_address = "127.0.0.1"
                  bind_port = %s
                  trust_domain = %s
                  data_dir = %s
                  socket_path = %s
                  log_level = %s
                  ca_key_type = "ec-p256"
                  ca_ttl = %s
                  default_x509_svid_ttl = %s%s
                  admin_ids = %s%s
                }
                plugins {
                  DataStore "sql" {
                    plugin_data {
                      database_type = "sqlite3"
                      connection_string = %s
                    }
                  }
                  KeyManager "disk" {
                    plugin_data {
                      keys_path = %s
                    }
                  }
                  NodeAttestor "join_token" {
                    plugin_data {}
                  }
                }
                """.formatted(Hcl.str(port), Hcl.str(settings.trustDomain().getName()), Hcl.str(data), Hcl.str(apiSocket()),
                Hcl.str(settings.logLevel()), Hcl.str(Hcl.duration(settings.caTtl())),
                Hcl.str(Hcl.duration(settings.defaultX509SvidTtl())), agentTtl(), Hcl.list(settings.adminIds()),
                settings.cacheReloadInterval().map(d -> "\n  experimental {\n    cache_reload_interval = "
                        + Hcl.str(Hcl.duration(d)) + "\n  }").orElse(""),
                Hcl.str(data.resolve("datastore.sqlite3")), Hcl.str(data.resolve("keys.json")));
        try {
            Files.createDirectories(data);
            Files.writeString(configFile(), conf);
        } catch (IOException e) {
            throw new LocalSpireException("cannot write " + configFile() + ": " + e.getMessage(), e);
        }
    }

    /** Starts the process again (after {@link #kill()} or {@link #stop()}) on the same data, port and CA. */
    public void start() throws LocalSpireException {
        Health.start(process, List.of(bin.server().toString(), "run", "-config", configFile().toString()), this::healthy,
                "spire-server healthcheck -socketPath " + apiSocket());
    }

    /** True if {@code spire-server healthcheck} passes now. */
    public boolean healthy() throws LocalSpireException {
        return SpireCli.run(bin.server(), List.of("healthcheck", "-socketPath", apiSocket().toString())).ok();
    }




    /** Runs {@code spire-server <args> -socketPath <api socket>} and returns its output. */
    public String cli(String... args) throws LocalSpireException {
        List<String> a = new ArrayList<>(List.of(args));
        a.add("-socketPath");
        a.add(apiSocket().toString());
        return SpireCli.ok(bin.server(), a);
    }

    /** The trust bundle in PEM ({@code spire-server bundle show}). */
    public String bundlePem() throws LocalSpireException {
        return cli("bundle", "show");
    }

    /**
     * A one-time join token for an agent ({@code spire-server token generate -spiffeID alias}); the server
     * also creates a node alias entry, so entries parented to {@code alias} go to that agent.
     */
    public String joinToken(SpiffeId alias) throws LocalSpireException {
        String out = cli("token", "generate", "-spiffeID", alias.toString(), "-ttl", "600");
        Matcher m = TOKEN.matcher(out);
        if (!m.find()) {
            throw new LocalSpireException("spire-server token generate printed no token: " + out.strip());
        }
        return m.group(1);
    }

    /**
     * Creates a workload entry with {@code spire-server entry create} and returns its id.
     *
     * @param selectors "type:value" strings, such as {@code unix:uid:0}
     */
    public String createEntry(SpiffeId parent, SpiffeId spiffeId, List<String> selectors, String... extraFlags)
            throws LocalSpireException {
        List<String> a = new ArrayList<>(List.of("entry", "create", "-parentID", parent.toString(), "-spiffeID",
                spiffeId.toString()));
        for (String s : selectors) {
            a.add("-selector");
            a.add(s);
        }
        a.addAll(List.of(extraFlags));
        String out = cli(a.toArray(String[]::new));
        Matcher m = ENTRY_ID.matcher(out);
        if (!m.find()) {
            throw new LocalSpireException("spire-server entry create printed no entry id: " + out.strip());
        }
        return m.group(1);
    }

    /** Deletes an entry ({@code spire-server entry delete -entryID}). */
    public void deleteEntry(String id) throws LocalSpireException {
        cli("entry", "delete", "-entryID", id);
    }

    /** Every entry as SPIRE's JSON ({@code spire-server entry show -output json}: a ListEntriesResponse). */
    public String entriesJson() throws LocalSpireException {
        return cli("entry", "show", "-output", "json");
    }

    /** The server API's Unix socket: local callers are admins. */
    public Path apiSocket() {
        return dir.resolve("api.sock");
    }

    /** The server API over TCP (mutual TLS; {@code admin_ids}), also where agents connect. */
    public InetSocketAddress address() {
        return new InetSocketAddress("127.0.0.1", port);
    }

    /** How it runs. */
    public Settings settings() {
        return settings;
    }

    /** {@code server.conf}. */
    public Path configFile() {
        return dir.resolve("server.conf");
    }



    /** Its SPIFFE ID, which clients over TCP require: {@code spiffe://<td>/spire/server}. */
    public SpiffeId spiffeId() {
        return SpiffeId.parse(settings.trustDomain().toIdString() + "/spire/server");
    }

    /** The binaries it runs. */
    public SpireBinaries binaries() {
        return bin;
    }

}
