package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManagerOptions;
import dev.meshauth.agent.cli.Main;
import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.events.GcReason;
import dev.meshauth.agent.k8s.CiliumResources;
import dev.meshauth.agent.k8s.FaultyKubernetesApi;
import dev.meshauth.agent.node.source.SourceConfig;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.io.TempDir;

import java.net.ServerSocket;
import java.nio.file.Path;
import java.time.Duration;
import java.time.InstantSource;
import java.util.HashSet;
import java.util.Optional;
import java.util.Set;

import static dev.meshauth.agent.k8s.CiliumObjects.endpoint;
import static dev.meshauth.agent.k8s.CiliumObjects.starWarsPolicy;
import static dev.meshauth.agent.k8s.CiliumObjects.identity;
import static dev.meshauth.agent.k8s.CiliumObjects.ownedNode;
import static dev.meshauth.testing.Eventually.eventually;
import static dev.meshauth.testing.Eventually.holds;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Scenario 6 of the reliability campaign: the Kubernetes API misbehaves under two agents that hold four
 * authenticated pairs. The API server goes away (every watch cut) and comes back; watches end with 410
 * Gone; relists leave out half the objects (node-2 among them) and later list them again. Through all of
 * it the agents delete no entry and drop no required pair: an object a relist no longer lists is believed
 * gone only after {@code --k8s-relist-grace}. An object that really went while nobody watched is deleted
 * when the grace ends. {@code -Dmeshauth.campaign.seconds=60} makes the outage a minute.
 */
class KubernetesFaultsTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    private static final int OUTAGE_SECONDS = Integer.getInteger("meshauth.campaign.seconds", 5);
    private static final Duration GRACE = Duration.ofSeconds(20);
    private static final int INFORMERS_PER_AGENT = 5; // nodes, endpoints, CNP, CCNP, identities


    /** Forces every informer with an open watch to relist, and waits until each one that got the 410 has. */
    private static void relisted(FaultyKubernetesApi api, String what) {
        int lists = api.lists();
        int gone = api.goneServed();
        api.forceRelist();
        awaitApi(api, what, () -> api.goneServed() > gone && api.lists() - lists >= api.goneServed() - gone);
    }

    /** Waits for the API server's counters; a failure tells them. */
    private static void awaitApi(FaultyKubernetesApi api, String what, java.util.function.BooleanSupplier done) {
        try {
            eventually(what, Duration.ofSeconds(90), done::getAsBoolean);
        } catch (AssertionError e) {
            throw new AssertionError(e.getMessage() + " (lists " + api.lists() + ", partial " + api.partialLists() + ", 410s "
                    + api.goneServed() + ", watches " + api.watches() + ")", e);
        }
    }

    private static long deletions(Agent a) {
        return a.events().recent().stream().filter(e -> e instanceof AuthEvent.EntryDeleted).count();
    }

    /** Nothing lost: every pair still required and held, no entry deleted on either agent. */
    private static void nothingLost(String after, Agent a1, Agent a2, Set<AuthKey> pairs) throws Exception {
        assertThat(a1.required()).as("required pairs after %s", after).isEqualTo(pairs);
        Set<AuthKey> held = new HashSet<>();
        a1.authMap().entries().forEach(e -> held.add(e.key()));
        assertThat(held).as("entries after %s", after).containsAll(pairs);
        assertThat(deletions(a1) + deletions(a2)).as("entries deleted after %s", after).isZero();
    }

    @Test
    void outagesGoneWatchesAndPartialRelistsDeleteNothingAndARealDeletionLandsAfterTheGrace(@TempDir Path dir)
            throws Exception {
        try (FaultyKubernetesApi api = new FaultyKubernetesApi()) {
            var c = api.client();
            c.genericKubernetesResources(CiliumResources.NODE).resource(ownedNode("node-1", "127.0.0.1", "uid-node-1")).create();
            c.genericKubernetesResources(CiliumResources.NODE).resource(ownedNode("node-2", "127.0.0.2", "uid-node-2")).create();
            var eps = c.genericKubernetesResources(CiliumResources.ENDPOINT).inNamespace("default");
            eps.resource(endpoint("deathstar", 1001, "198.18.1.10", "127.0.0.1", "k8s:org=empire", "k8s:class=deathstar")).create();
            Set<AuthKey> pairs = new HashSet<>();
            for (int i = 0; i < 4; i++) {
                long id = 1002 + i;
                eps.resource(endpoint("tiefighter-" + i, id, "198.18.2." + (20 + i), "127.0.0.2", "k8s:org=empire",
                        "k8s:class=tiefighter", "k8s:squadron=" + i)).create();
                pairs.add(new AuthKey(1001, id, 2, AuthType.SPIRE));
            }
            for (long id = 1001; id <= 1005; id++) {
                c.genericKubernetesResources(CiliumResources.IDENTITY).resource(identity(Long.toString(id))).create();
            }
            c.genericKubernetesResources(CiliumResources.NETWORK_POLICY).inNamespace("default").resource(starWarsPolicy()).create();
            Path kubeconfig = api.writeKubeconfig(dir.resolve("kubeconfig"));

            DevServerConfig spireConfig = DevServerConfig.under(dir.resolve("spire"), TD);
            int port;
            try (ServerSocket probe = new ServerSocket(0)) {
                port = probe.getLocalPort();
            }
            try (DevServer spire = DevServer.start(spireConfig, InstantSource.system())) {
                assertThat(Main.run("operator", "--once", "--spire-server-socket", spireConfig.serverSocket().toString(),
                        "--kubeconfig", kubeconfig.toString())).isZero();
                AuthManagerOptions opts = new AuthManagerOptions(1024, Duration.ofSeconds(1), 4, Duration.ofMillis(100),
                        Duration.ofSeconds(2), Duration.ofMinutes(1));
                SourceConfig k8s = new SourceConfig.Kubernetes(Optional.of(kubeconfig), Duration.ofSeconds(30), Optional.empty(),
                        GRACE);
                AgentConfig node1 = new AgentConfig("node-1", k8s, spireConfig.adminSocket(), TD, port, Optional.empty(), false,
                        Duration.ofSeconds(2), opts, Duration.ofSeconds(5), Optional.empty(), Optional.empty());
                AgentConfig node2 = new AgentConfig("node-2", k8s, spireConfig.adminSocket(), TD, port, Optional.empty(), false,
                        Duration.ofSeconds(2), opts, Duration.ofSeconds(5), Optional.empty(), Optional.empty());
                try (Agent a1 = Agent.start(node1, InstantSource.system());
                        Agent a2 = Agent.start(node2, InstantSource.system())) {
                    eventually("four pairs authenticated", Duration.ofSeconds(30), () -> {
                        Set<AuthKey> held = new HashSet<>();
                        a1.authMap().entries().forEach(e -> held.add(e.key()));
                        return held.containsAll(pairs);
                    });
                    nothingLost("start", a1, a2, pairs);

                    // 1. The API server gone, every watch cut; it comes back with the same objects and the
                    // informers watch again from where they were.
                    int watches = api.watches();
                    api.outage(Duration.ofSeconds(OUTAGE_SECONDS));
                    eventually("both agents watch again", Duration.ofSeconds(90),
                            () -> api.watches() >= watches + 2 * INFORMERS_PER_AGENT);
                    nothingLost("an outage of " + OUTAGE_SECONDS + " s", a1, a2, pairs);

                    // 2. Watches that end with 410 Gone: each informer relists.
                    relisted(api, "watches answered 410 and each of those informers relisted");
                    nothingLost("watches ended with 410 Gone", a1, a2, pairs);

                    // 3. Relists that leave out half of every kind (node-2, two tiefighters, two identities),
                    // then list them all again.
                    api.dropHalfOfLists(true);
                    int partial = api.partialLists();
                    relisted(api, "relists after 410");
                    assertThat(api.partialLists()).as("partial relists of nodes, endpoints or identities")
                            .isGreaterThan(partial);
                    // Two GC intervals (2 s) and more pass on the partial view, checked all along.
                    holds("nothing lost on the partial view", Duration.ofSeconds(5), Duration.ofMillis(250), () -> {
                        nothingLost("relists that left out half the objects", a1, a2, pairs);
                        return true;
                    });
                    api.dropHalfOfLists(false);
                    relisted(api, "complete relists again");
                    // Past the grace, checked all along: the held deletes were dropped, not believed.
                    holds("nothing lost through the grace", GRACE.plusSeconds(3), Duration.ofMillis(250), () -> {
                        nothingLost("the objects were listed again and the grace passed", a1, a2, pairs);
                        return true;
                    });

                    // 4. The grace is not forever: a tiefighter deleted while nobody watched goes after it.
                    AuthKey gone = new AuthKey(1001, 1005, 2, AuthType.SPIRE);
                    api.deleteWhileNobodyWatches("/apis/cilium.io/v2/namespaces/default/ciliumendpoints/tiefighter-3");
                    long start = System.nanoTime();
                    // The grace, plus the informers' reconnect backoff (fabric8's grows to half a minute).
                    eventually("the entry of the tiefighter the relists no longer list is deleted", GRACE.plusSeconds(90),
                            () -> a1.authMap().get(gone).isEmpty());
                    Duration took = Duration.ofNanos(System.nanoTime() - start);
                    assertThat(took).as("not before the grace").isGreaterThanOrEqualTo(GRACE.minusSeconds(1));
                    assertThat(a1.events().recent()).anyMatch(e -> e instanceof AuthEvent.EntryDeleted d && d.key().equals(gone)
                            && (d.reason() == GcReason.NOT_REQUIRED || d.reason() == GcReason.IDENTITY_DELETED
                            || d.reason() == GcReason.NO_LOCAL_ENDPOINT));
                    Set<AuthKey> rest = new HashSet<>(pairs);
                    rest.remove(gone);
                    assertThat(a1.required()).isEqualTo(rest);
                    System.out.println("CAMPAIGN scenario=kubernetes-faults outage_s=" + OUTAGE_SECONDS + " lists=" + api.lists()
                            + " partial_lists=" + api.partialLists() + " gone_410=" + api.goneServed()
                            + " pairs=" + pairs.size() + " deleted_wrongly=0 real_deletion_after_s=" + took.toSeconds());
                }
            }
        }
    }
}
