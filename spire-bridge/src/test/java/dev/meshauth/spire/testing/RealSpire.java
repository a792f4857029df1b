package dev.meshauth.spire.testing;

import com.google.protobuf.util.JsonFormat;
import dev.meshauth.spire.UnixSelectors;
import dev.meshauth.spire.local.LocalSpire;
import dev.meshauth.spire.local.LocalSpireAgent;
import dev.meshauth.spire.local.LocalSpireException;
import dev.meshauth.spire.local.LocalSpireServer;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.extension.AfterAllCallback;
import org.junit.jupiter.api.extension.BeforeAllCallback;
import org.junit.jupiter.api.extension.ExtensionContext;
import org.junit.jupiter.api.extension.TestWatcher;
import spire.api.server.entry.v1.EntryOuterClass.ListEntriesResponse;
import spire.api.types.EntryOuterClass.Entry;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.Optional;

/**
 * A real SPIRE for one test class: a {@code spire-server} and one {@code spire-agent} per node, started
 * before the class and stopped, with every file removed, after it, also when a test fails. Each node's
 * agent lists the meshauth agent ({@link #MESHAUTH_AGENT}) in {@code authorized_delegates} unless told
 * otherwise, and that ID is registered on every node for this process ({@code unix:uid:<uid>}), as the
 * meshauth agent's own entry. A failed test gets SPIRE's logs on stderr, so they land in its report.
 *
 * <pre>{@code @RealSpireTest class T { @RegisterExtension static final RealSpire spire = RealSpire.nodes("node-1").build(); }}</pre>
 */
public final class RealSpire implements BeforeAllCallback, AfterAllCallback, TestWatcher, AutoCloseable {
    /** The trust domain (Cilium's default). */
    public static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    /** The meshauth agent's SPIFFE ID, the authorized delegate. */
    public static final SpiffeId MESHAUTH_AGENT = SpiffeId.parse("spiffe://spiffe.cilium/meshauth-agent");
    /** The operator's SPIFFE ID (Cilium's), the parent of identity entries and the server's admin. */
    public static final SpiffeId OPERATOR = SpiffeId.parse("spiffe://spiffe.cilium/cilium-operator");

    private final LocalSpireServer.Settings serverSettings;
    private final List<LocalSpireAgent.Settings> agentSettings;
    private final boolean delegateEntries;
    private Path dir;
    private LocalSpire spire;

    private RealSpire(LocalSpireServer.Settings server, List<LocalSpireAgent.Settings> agents, boolean delegateEntries) {
        this.serverSettings = server;
        this.agentSettings = List.copyOf(agents);
        this.delegateEntries = delegateEntries;
    }

    /** A SPIRE with an agent for each of {@code nodes}, each delegating to the meshauth agent. */
    public static Builder nodes(String... nodes) {
        Builder b = new Builder();
        for (String n : nodes) {
            b.node(n, List.of(MESHAUTH_AGENT));
        }
        return b;
    }

    /** How the SPIRE of a test class is set up. */
    public static final class Builder {
        // The server rebuilds its entry cache every second here (SPIRE's default: 5 s), to keep tests short.
        private LocalSpireServer.Settings server = LocalSpireServer.Settings.defaults(TD)
                .withCacheReloadInterval(Duration.ofSeconds(1));
        private final List<LocalSpireAgent.Settings> agents = new ArrayList<>();
        private Duration sync = Duration.ofSeconds(1);
        private boolean delegateEntries = true;

        /** Registers no meshauth agent entry: the test gives this process the identities it needs. */
        public Builder noDelegateEntries() {
            delegateEntries = false;
            return this;
        }

        /** Adds a node whose agent authorizes exactly {@code delegates}. */
        public Builder node(String name, List<SpiffeId> delegates) {
            agents.add(new LocalSpireAgent.Settings(name, delegates, Optional.empty(), "DEBUG"));
            return this;
        }

        /** {@code ca_ttl} and {@code default_x509_svid_ttl} (SPIRE's defaults: 24 h and 1 h). */
        public Builder ttls(Duration ca, Duration svid) {
            server = server.withTtls(ca, svid);
            return this;
        }

        /** The server's {@code admin_ids}. */
        public Builder adminIds(SpiffeId... ids) {
            server = server.withAdminIds(List.of(ids));
            return this;
        }

        /** The server's entry cache reload interval (default here 1 s, to keep tests short; SPIRE's own is 5 s). */
        public Builder cacheReload(Duration d) {
            server = server.withCacheReloadInterval(d);
            return this;
        }

        /** The agents' sync interval (default here 1 s, to keep tests short; SPIRE's own is 5 s). */
        public Builder syncInterval(Duration d) {
            sync = d;
            return this;
        }

        /** The extension. */
        public RealSpire build() {
            return new RealSpire(server, agents.stream().map(a -> a.withSyncInterval(sync)).toList(), delegateEntries);
        }
    }

    @Override
    public void beforeAll(ExtensionContext context) throws Exception {
        start();
    }

    @Override
    public void afterAll(ExtensionContext context) throws IOException {
        close();
    }

    /** Starts it (the extension does this before the class; other fixtures may call it directly). */
    public void start() throws LocalSpireException, IOException {
        // Traversable by other users, as SPIRE's socket directories are: tests connect as other uids too.
        dir = Files.createTempDirectory("meshauth-spire-", java.nio.file.attribute.PosixFilePermissions.asFileAttribute(
                java.nio.file.attribute.PosixFilePermissions.fromString("rwxr-xr-x")));
        try {
            spire = LocalSpire.start(RealSpireCondition.binaries(), dir, serverSettings, agentSettings);
            if (delegateEntries) {
                for (LocalSpireAgent a : spire.agents()) {
                    spire.register(a.name(), MESHAUTH_AGENT, List.of(uidSelector()));
                }
                for (LocalSpireAgent a : spire.agents()) {
                    a.awaitSvid(MESHAUTH_AGENT, Duration.ofSeconds(30)); // in effect only after the agent's next sync
                }
            }
        } catch (LocalSpireException | RuntimeException e) {
            close();
            throw e;
        }
    }

    /** Stops every process and removes every file. */
    @Override
    public void close() throws IOException {
        if (spire != null) {
            spire.close();
            spire = null;
        }
        if (dir != null) {
            TempDirs.delete(dir);
            dir = null;
        }
    }

    @Override
    public void testFailed(ExtensionContext context, Throwable cause) {
        if (spire != null) {
            System.err.println("---- SPIRE logs at the failure of " + context.getDisplayName() + " ----\n" + spire.logs(150));
        }
    }

    /** The running SPIRE. */
    public LocalSpire spire() {
        return spire;
    }

    /** The server. */
    public LocalSpireServer server() {
        return spire.server();
    }

    /** The agent of {@code node}. */
    public LocalSpireAgent agent(String node) {
        return spire.agent(node);
    }

    /** The selector of this process for SPIRE's unix attestor, {@code unix:uid:<uid>}. */
    public static String uidSelector() {
        return "unix:uid:" + UnixSelectors.currentUid();
    }

    /** Every entry, as {@code spire-server entry show -output json} prints them. */
    public List<Entry> entries() throws LocalSpireException {
        try {
            ListEntriesResponse.Builder b = ListEntriesResponse.newBuilder();
            JsonFormat.parser().ignoringUnknownFields().merge(server().entriesJson(), b);
            return b.getEntriesList();
        } catch (com.google.protobuf.InvalidProtocolBufferException e) {
            throw new LocalSpireException("spire-server entry show -output json printed what our Entry proto cannot read: "
                    + e.getMessage(), e);
        }
    }
}
