package dev.meshauth.agent.status;

import com.fasterxml.jackson.databind.JsonNode;
import dev.meshauth.agent.cli.Main;
import dev.meshauth.agent.handshake.TrustAnchors;
import dev.meshauth.agent.node.Agent;
import dev.meshauth.agent.node.StarWarsFiles;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.spire.devserver.DevServer;
import dev.meshauth.spire.devserver.DevServerConfig;
import io.spiffe.spiffeid.TrustDomain;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.MethodOrderer;
import org.junit.jupiter.api.Order;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.TestInstance;
import org.junit.jupiter.api.TestMethodOrder;
import org.junit.jupiter.api.io.TempDir;
import picocli.CommandLine;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.net.InetSocketAddress;
import java.net.URI;
import java.net.http.HttpClient;
import java.net.http.HttpRequest;
import java.net.http.HttpResponse;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.attribute.PosixFilePermissions;
import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Supplier;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * The operators' view against two running agents (dev SPIRE, real TLS, in-memory datapath): every CLI
 * command through the status socket, with output fields and exit codes; metrics scraped over HTTP and
 * parsed strictly; the socket's access rules; SPIRE going down.
 */
@TestInstance(TestInstance.Lifecycle.PER_CLASS)
@TestMethodOrder(MethodOrderer.OrderAnnotation.class)
class StatusApiTest {
    private static final TrustDomain TD = TrustDomain.parse("spiffe.cilium");
    private static final AuthKey PAIR = new AuthKey(1001, 1002, 2, AuthType.SPIRE);

    private Path dir;
    private DevServer spire;
    private Agent node1;
    private Agent node2;
    private Path sock1;
    private Path sock2;

    /** One CLI run, as a user types it. */
    record Run(int code, String out, String err) {
        JsonNode json() throws Exception {
            return Json.MAPPER.readTree(out);
        }
    }

    static Run cli(String... args) {
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        CommandLine cl = Main.newCommandLine();
        cl.setOut(new PrintWriter(out));
        cl.setErr(new PrintWriter(err));
        int code = cl.execute(args);
        return new Run(code, out.toString(), err.toString());
    }


    @BeforeAll
    void start(@TempDir Path tmp) throws Exception {
        dir = tmp;
        Files.setPosixFilePermissions(dir, PosixFilePermissions.fromString("rwxr-xr-x")); // like /var/run: others may pass
        StarWarsFiles files = StarWarsFiles.write(dir, true);
        DevServerConfig sc = DevServerConfig.under(dir.resolve("spire"), TD);
        spire = DevServer.start(sc, InstantSource.system());
        assertThat(Main.run("operator", "--once", "--spire-server-socket", sc.serverSocket().toString(), "--endpoints",
                files.endpoints().toString())).isZero();
        sock1 = dir.resolve("run1/agent.sock");
        sock2 = dir.resolve("run2/agent.sock");
        InetSocketAddress anyPort = new InetSocketAddress("127.0.0.1", 0);
        node1 = Agent.start(files.memoryAgent("node-1", sc.adminSocket(), Optional.of(sock1), Optional.of(anyPort)),
                InstantSource.system());
        node2 = Agent.start(files.memoryAgent("node-2", sc.adminSocket(), Optional.of(sock2), Optional.of(anyPort)),
                InstantSource.system());
        eventually("node1.manager().held().size() == 1", Duration.ofSeconds(15),
                () -> node1.manager().held().size() == 1);
    }

    @AfterAll
    void stop() {
        for (AutoCloseable c : new AutoCloseable[] {node1, node2, spire}) {
            try {
                if (c != null) {
                    c.close();
                }
            } catch (Exception ignored) {
                // best effort
            }
        }
    }

    @Test
    @Order(1)
    void statusShowsAHealthyNodeInJsonAndInOneScreen() throws Exception {
        Run r = cli("status", "--status-socket", sock1.toString(), "-o", "json", "--verbose");
        assertThat(r.code()).as(r.err()).isZero();
        JsonNode s = r.json();
        assertThat(s.get("node").asText()).isEqualTo("node-1");
        assertThat(s.at("/spire/connected").asBoolean()).isTrue();
        assertThat(s.at("/spire/bundleChanges").asLong()).as("the bundle received at start is counted").isGreaterThanOrEqualTo(1);
        assertThat(s.get("trustDomain").asText()).isEqualTo("spiffe.cilium");
        assertThat(s.at("/bundle/0/fingerprint").asText()).isEqualTo(TrustAnchors.fingerprint(spire.ca().certificate()));
        assertThat(s.at("/svids/count").asInt()).as("as in Cilium, every agent holds every identity's SVID").isEqualTo(3);
        assertThat(s.at("/datapath/mode").asText()).isEqualTo("memory");
        assertThat(s.at("/auth/required").asInt()).isEqualTo(1);
        assertThat(s.at("/auth/held").asInt()).isEqualTo(1);
        assertThat(s.at("/auth/missing").asInt()).isZero();
        assertThat(s.get("problems")).isEmpty();
        assertThat(s.at("/peers/0/node").asText()).isEqualTo("node-2");
        assertThat(s.at("/peers/0/entries").asInt()).isEqualTo(1);
        assertThat(s.at("/peers/0/lastResult").asText()).isEqualTo("succeeded");

        Run table = cli("status", "--status-socket", sock1.toString());
        assertThat(table.code()).isZero();
        assertThat(table.out()).contains("up on node node-1").contains("SPIRE:").contains("connected via")
                .containsPattern("Problems:\\s+none").containsPattern("Auth:\\s+required 1, held 1");
        assertThat(cli("status", "--status-socket", sock1.toString(), "-o", "yaml").out()).contains("node: node-1")
                .contains("trustDomain: spiffe.cilium");
    }

    @Test
    @Order(2)
    void certsListTheSvidsHeld() throws Exception {
        Run r = cli("certs", "--status-socket", sock2.toString(), "-o", "json");
        assertThat(r.code()).isZero();
        JsonNode certs = r.json();
        assertThat(certs).hasSize(3);
        JsonNode tie = certs.get(1);
        assertThat(tie.get("identity").asLong()).isEqualTo(1002);
        assertThat(tie.get("spiffeId").asText()).isEqualTo("spiffe://spiffe.cilium/identity/1002");
        Instant nb = Instant.parse(tie.get("notBefore").asText());
        Instant na = Instant.parse(tie.get("notAfter").asText());
        assertThat(Instant.parse(tie.get("rotatesAt").asText())).isEqualTo(nb.plus(Duration.between(nb, na).dividedBy(2)));
        assertThat(tie.get("issuer").asText()).contains("meshauth dev CA");
        assertThat(tie.get("hosted").asBoolean()).as("the tiefighter runs on node-2").isTrue();
        assertThat(certs.get(0).get("hosted").asBoolean()).as("the deathstar does not (the dev SPIRE issues every key)").isFalse();
        assertThat(cli("certs", "--status-socket", sock2.toString()).out()).contains("IDENTITY").contains("identity/1003")
                .contains("node-2 holds 3 SVIDs: 2 for identities it hosts, 1 for identities it does not host")
                .containsPattern("1001\\s+no\\s+spiffe://spiffe.cilium/identity/1001");
    }

    @Test
    @Order(3)
    void observeShowsTheHandshakeAndFollowsNewEvents() throws Exception {
        Run recent = cli("observe", "--status-socket", sock1.toString(), "--type", "handshake", "-o", "json");
        assertThat(recent.code()).isZero();
        List<JsonNode> handshakes = recent.out().lines().map(l -> {
            try {
                return Json.MAPPER.readTree(l);
            } catch (Exception e) {
                throw new IllegalStateException(l, e);
            }
        }).toList();
        assertThat(handshakes).allMatch(h -> h.get("type").asText().equals("handshake"));
        // node-2's listener may have come up just after node-1's first try: then a failure precedes the retry.
        JsonNode ok = handshakes.stream().filter(h -> h.get("event").asText().equals("succeeded")).findFirst().orElseThrow();
        assertThat(ok.get("localIdentity").asLong()).isEqualTo(1001);
        assertThat(ok.get("remoteIdentity").asLong()).isEqualTo(1002);
        assertThat(ok.get("origin").asText()).isIn("policy", "retry");
        assertThat(ok.get("durationMs").asDouble()).isPositive();
        assertThat(cli("observe", "--status-socket", sock1.toString(), "--identity", "1003").out()).isEmpty();

        // The server side sees the same handshake: node-2's listener served 1002 to node-1's 1001.
        Run inbound = cli("observe", "--status-socket", sock2.toString(), "--type", "handshake");
        assertThat(inbound.code()).isZero();
        assertThat(inbound.out()).containsPattern("HANDSHAKE +accepted +1002 <-> 1001 origin=inbound \\(from node-1 "
                + "127\\.0\\.0\\.1:\\d+\\)");

        // --follow: a deletion made now reaches the stream.
        List<String> lines = new CopyOnWriteArrayList<>();
        List<Long> arrivedAt = new CopyOnWriteArrayList<>();
        Thread follower = Thread.ofPlatform().daemon().start(() -> {
            try {
                new StatusClient(sock1).stream("/v1/events?follow=true&type=gc", l -> {
                    arrivedAt.add(System.nanoTime());
                    lines.add(l);
                });
            } catch (StatusClient.AgentException e) {
                lines.add("ERROR " + e.getMessage());
            }
        });
        Thread.sleep(300); // the subscription is open
        long before = System.nanoTime();
        node1.manager().svidRemoved(1002); // as if SPIRE removed the tiefighter's SVID: its entry goes
        eventually("!lines.isEmpty()", Duration.ofSeconds(15), () -> !lines.isEmpty());
        node1.manager().svidAdded(1002); // and as if it came back
        node1.manager().setRequired(node1.required());
        JsonNode gc = Json.MAPPER.readTree(lines.getFirst());
        assertThat(gc.get("type").asText()).isEqualTo("gc");
        assertThat(gc.get("reason").asText()).isEqualTo("svid-removed");
        System.out.printf("observe --follow: event to line %.2f ms%n", (arrivedAt.getFirst() - before) / 1e6);
        follower.interrupt();
        eventually("node1.manager().held().size() == 1", Duration.ofSeconds(15),
                () -> node1.manager().held().size() == 1); // required again: re-authenticated
    }

    @Test
    @Order(4)
    void checkGivesTheVerdictAndWhy() throws Exception {
        Run ok = cli("check", "--status-socket", sock1.toString(), "--from", "tiefighter", "--to", "deathstar", "--port", "80",
                "-o", "json");
        assertThat(ok.code()).as(ok.out() + ok.err()).isZero();
        assertThat(ok.json().get("verdict").asText()).isEqualTo("allowed");
        assertThat(ok.json().get("authType").asText()).isEqualTo("spire");
        assertThat(Instant.parse(ok.json().get("expiration").asText())).isEqualTo(node1.authMap().get(PAIR).orElseThrow().expiresAt());

        Run xwing = cli("check", "--status-socket", sock1.toString(), "--from", "default/xwing", "--to", "1001", "--port", "80",
                "-o", "json");
        assertThat(xwing.code()).isEqualTo(1);
        assertThat(xwing.json().get("verdict").asText()).isEqualTo("denied-by-policy");

        Run otherPort = cli("check", "--status-socket", sock1.toString(), "--from", "tiefighter", "--to", "deathstar",
                "--port", "443", "-o", "json");
        assertThat(otherPort.json().get("verdict").asText()).isEqualTo("denied-by-policy");

        AuthInfo held = node1.authMap().get(PAIR).orElseThrow();
        node1.authMap().put(PAIR, AuthInfo.expiringAt(Instant.now().minusSeconds(5)));
        Run expired = cli("check", "--status-socket", sock1.toString(), "--from", "tiefighter", "--to", "deathstar", "--port",
                "80", "-o", "json");
        assertThat(expired.json().get("verdict").asText()).isEqualTo("auth-expired");
        node1.authMap().delete(PAIR);
        Run missing = cli("check", "--status-socket", sock1.toString(), "--from", "tiefighter", "--to", "deathstar", "--port",
                "80");
        assertThat(missing.code()).isEqualTo(1);
        assertThat(missing.out()).containsPattern("Verdict:\\s+auth-required-missing");
        node1.authMap().put(PAIR, held);

        Run wrongNode = cli("check", "--status-socket", sock2.toString(), "--from", "tiefighter", "--to", "deathstar", "--port",
                "80");
        assertThat(wrongNode.code()).isEqualTo(1);
        assertThat(wrongNode.err()).contains("enforced on node node-1");
        assertThat(cli("check", "--status-socket", sock1.toString(), "--from", "nobody", "--to", "deathstar").err())
                .contains("no endpoint named 'nobody'");

        Run icmp = cli("check", "--status-socket", sock1.toString(), "--from", "tiefighter", "--to", "deathstar",
                "--protocol", "icmp", "--port", "8", "-o", "json");
        assertThat(icmp.code()).as(icmp.out() + icmp.err()).isEqualTo(1);
        assertThat(icmp.json().get("verdict").asText()).as("echo under default deny").isEqualTo("denied-by-policy");
        assertThat(icmp.json().get("enforcedBy").asText()).isEqualTo("ingress of default/deathstar");
        Run raw = cli("check", "--status-socket", sock1.toString(), "--from", "tiefighter", "--to", "deathstar",
                "--protocol", "ANY", "-o", "json");
        assertThat(raw.json().get("verdict").asText()).as("a raw protocol under default deny").isEqualTo("denied-by-policy");
        Run sctp = cli("check", "--status-socket", sock1.toString(), "--from", "tiefighter", "--to", "deathstar",
                "--protocol", "SCTP", "--port", "80", "-o", "json");
        assertThat(sctp.json().get("verdict").asText()).as("the rule names TCP only").isEqualTo("denied-by-policy");
        Run badProtocol = cli("check", "--status-socket", sock1.toString(), "--from", "tiefighter", "--to", "deathstar",
                "--protocol", "GRE");
        assertThat(badProtocol.code()).as("a bad option value is a usage error").isEqualTo(2);
        assertThat(badProtocol.err()).contains("--protocol").contains("GRE").contains("TCP, UDP, SCTP, ICMP, ICMPV6, ANY");
        Run self = cli("check", "--status-socket", sock1.toString(), "--from", "deathstar", "--to", "default/deathstar",
                "--port", "80", "-o", "json");
        assertThat(self.code()).isZero();
        assertThat(self.json().get("verdict").asText()).isEqualTo("not-enforced");
        assertThat(self.json().get("reason").asText()).contains("loopback");
    }

    @Test
    @Order(5)
    void metricsAreScrapedParsedAndMoveWithEvents() throws Exception {
        InetSocketAddress a = node1.metricsAddress().orElseThrow();
        HttpClient http = HttpClient.newHttpClient();
        Supplier<Map<String, PromText.Family>> scrape = () -> {
            try {
                HttpResponse<String> r = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.getPort()
                        + "/metrics")).build(), HttpResponse.BodyHandlers.ofString());
                assertThat(r.statusCode()).isEqualTo(200);
                assertThat(r.headers().firstValue("Content-Type").orElse("")).startsWith("text/plain; version=0.0.4");
                return PromText.parse(r.body());
            } catch (Exception e) {
                throw new IllegalStateException(e);
            }
        };
        Map<String, PromText.Family> m = scrape.get();
        assertThat(m.keySet()).allMatch(n -> n.startsWith("meshauth_"));
        assertThat(m.get("meshauth_handshakes_total").samples().get("meshauth_handshakes_total{reason=\"\",result=\"success\"}"))
                .isGreaterThanOrEqualTo(1.0);
        assertThat(m.get("meshauth_svids").samples().get("meshauth_svids")).isEqualTo(3.0);
        double notAfter = node1.manager().held().isEmpty() ? 0 : m.get("meshauth_cert_expiration_timestamp_seconds").samples()
                .get("meshauth_cert_expiration_timestamp_seconds{identity=\"1001\"}");
        assertThat(cli("certs", "--status-socket", sock1.toString(), "-o", "json").json().get(0).get("notAfter").asText())
                .isEqualTo(Instant.ofEpochSecond((long) notAfter).toString());
        assertThat(m.get("meshauth_handshake_duration_seconds").type()).isEqualTo("histogram");
        Map<String, PromText.Family> m2 = PromText.parse(http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:"
                + node2.metricsAddress().orElseThrow().getPort() + "/metrics")).build(), HttpResponse.BodyHandlers.ofString())
                .body());
        assertThat(m2.get("meshauth_inbound_handshakes_total").samples())
                .as("node-2's listener counted node-1's handshake")
                .hasEntrySatisfying("meshauth_inbound_handshakes_total{reason=\"\",result=\"accepted\"}",
                        v -> assertThat(v).isGreaterThanOrEqualTo(1.0));
        String raw = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.getPort() + "/metrics")).build(),
                HttpResponse.BodyHandlers.ofString()).body();
        Map<String, String> real = RealPromParser.families(raw);
        assertThat(real).as("prometheus_client's parser reads every family ours does")
                .containsEntry("meshauth_handshake_duration_seconds", real.get("meshauth_handshake_duration_seconds"))
                .hasSize(m.size());
        assertThat(real.get("meshauth_handshakes")).startsWith("counter ");
        assertThat(real.get("meshauth_handshake_duration_seconds")).startsWith("histogram ");
        assertThat(real.get("meshauth_cert_expiration_timestamp_seconds")).startsWith("gauge ");
        double gcBefore = m.get("meshauth_gc_deletions_total").samples().get("meshauth_gc_deletions_total{reason=\"svid-removed\"}");

        node1.manager().svidRemoved(1002);
        node1.manager().svidAdded(1002);
        node1.manager().setRequired(node1.required());
        double gcAfter = scrape.get().get("meshauth_gc_deletions_total").samples()
                .get("meshauth_gc_deletions_total{reason=\"svid-removed\"}");
        assertThat(gcAfter).isEqualTo(gcBefore + 1);
        eventually("node1.manager().held().size() == 1", Duration.ofSeconds(15),
                () -> node1.manager().held().size() == 1);

        HttpResponse<String> ready = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.getPort()
                + "/readyz")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(ready.statusCode()).isEqualTo(200);
        HttpResponse<String> healthy = http.send(HttpRequest.newBuilder(URI.create("http://127.0.0.1:" + a.getPort()
                + "/healthz")).build(), HttpResponse.BodyHandlers.ofString());
        assertThat(healthy.statusCode()).isEqualTo(200);
    }

    @Test
    @Order(6)
    void theSocketIsForRootAndItsGroupOnly() throws Exception {
        assertThat(PosixFilePermissions.toString(Files.getPosixFilePermissions(sock1))).isEqualTo("rw-rw----");
        AsUser.run(65534, () -> assertThatThrownBy(() -> new StatusClient(sock1).get("/v1/status",
                new com.fasterxml.jackson.core.type.TypeReference<StatusModel.AgentStatus>() { }))
                .isInstanceOf(StatusClient.AgentException.class).hasMessageContaining("permission denied"));
        Run garbage = rawRequest(sock1, "HELLO\r\n\r\n");
        assertThat(garbage.out()).startsWith("HTTP/1.1 400");
        assertThat(cli("status", "--status-socket", sock1.toString(), "-o", "json").code()).as("unharmed").isZero();
    }

    @Test
    @Order(8)
    void aMissingAgentIsReportedClearly() {
        Run r = cli("status", "--status-socket", dir.resolve("nowhere.sock").toString());
        assertThat(r.code()).isEqualTo(1);
        assertThat(r.err()).contains("no meshauth agent status socket at").contains("is `meshauth agent` running");
    }

    @Test
    @Order(9)
    void statusSaysSoWhenSpireIsDown() throws Exception {
        spire.close();
        eventually("cli(\"status\", \"--status-socket\", sock1.toString()).code() == 1", Duration.ofSeconds(15),
                () -> cli("status", "--status-socket", sock1.toString()).code() == 1);
        Run r = cli("status", "--status-socket", sock1.toString());
        assertThat(r.out()).containsPattern("SPIRE:\\s+(NOT CONNECTED|ADMIN SOCKET MISSING)")
                .containsPattern("Problems:\\s+SPIRE (agent not connected|admin socket not found)");
    }

    private static Run rawRequest(Path socket, String request) throws Exception {
        try (var ch = java.nio.channels.SocketChannel.open(java.net.StandardProtocolFamily.UNIX)) {
            ch.connect(java.net.UnixDomainSocketAddress.of(socket));
            ch.write(java.nio.ByteBuffer.wrap(request.getBytes(java.nio.charset.StandardCharsets.US_ASCII)));
            java.io.InputStream in = java.nio.channels.Channels.newInputStream(ch);
            return new Run(0, new String(in.readAllBytes(), java.nio.charset.StandardCharsets.UTF_8), "");
        }
    }

    @Test
    @Order(7)
    void theAgentPrintsForTheCliWhichLoadsNoJsonBindingAndOnlyItsOwnCommand(@TempDir Path tmp) throws Exception {
        // Server-side printing, as the Kubernetes API server prints tables for kubectl: the text, the exit code.
        StringWriter out = new StringWriter();
        StringWriter err = new StringWriter();
        int code = new StatusClient(sock1).print("/v1/status?output=table", new PrintWriter(out), new PrintWriter(err));
        assertThat(code).isZero();
        assertThat(out.toString()).contains("up on node node-1").containsPattern("Problems:\\s+none");
        assertThat(new StatusClient(sock1).print("/v1/check?from=default/xwing&to=1001&port=80&output=table",
                new PrintWriter(new StringWriter()), new PrintWriter(new StringWriter()))).as("denied: exit 1").isEqualTo(1);
        assertThatThrownBy(() -> new StatusClient(sock1).print("/v1/status?output=xml", new PrintWriter(out),
                new PrintWriter(err))).isInstanceOfSatisfying(StatusClient.AgentException.class, e -> {
                    assertThat(e.status()).isEqualTo(400);
                    assertThat(e.getMessage()).isEqualTo("output must be table, json or yaml, got 'xml'");
                });
        // The CLI process: no JSON data binding (a third of its start-up before), no other subcommand's model.
        Path classes = tmp.resolve("classes.log");
        StringBuffer log = new StringBuffer();
        Process p = dev.meshauth.agent.cli.MeshauthProcess.start(List.of("-Xlog:class+load=info:file=" + classes),
                List.of("status", "--status-socket", sock1.toString()), log);
        assertThat(p.waitFor(60, java.util.concurrent.TimeUnit.SECONDS)).isTrue();
        assertThat(p.exitValue()).as(log.toString()).isZero();
        String loaded = Files.readString(classes);
        assertThat(loaded).contains("dev.meshauth.agent.cli.StatusCommand ")
                .doesNotContain("com.fasterxml.jackson.databind.")
                .doesNotContain("dev.meshauth.agent.cli.AgentCommand ")
                .doesNotContain("dev.meshauth.agent.cli.DemoCommand ");
    }
}
