package dev.meshauth.agent.demo;

import dev.meshauth.bpf.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.time.Duration;
import java.util.Arrays;
import java.util.Set;
import java.util.TreeSet;
import java.util.concurrent.TimeUnit;
import java.util.stream.Collectors;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code meshauth demo} end to end, as CI runs it (not on a terminal: no pauses): every outcome of the
 * guide, and afterwards no namespace, host link, program or pinned map of ours left.
 */
@KernelTest
class DemoKernelTest {
    record HostState(Set<String> namespaces, Set<String> links, Set<String> programs, Set<String> demoDirs) {
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS)).isTrue();
        return out;
    }

    static HostState host() throws IOException, InterruptedException {
        Set<String> ns = new TreeSet<>();
        if (Files.isDirectory(Path.of("/var/run/netns"))) {
            try (var l = Files.list(Path.of("/var/run/netns"))) {
                l.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("ma-demo-")).forEach(ns::add);
            }
        }
        Set<String> links = Arrays.stream(run("ip", "-o", "link", "show").split("\n"))
                .map(l -> l.split(":", 3).length > 1 ? l.split(":", 3)[1].strip() : l).collect(Collectors.toCollection(TreeSet::new));
        Set<String> progs = Arrays.stream(run("bpftool", "prog", "show").split("\n")).filter(l -> l.contains("meshauth_ing"))
                .collect(Collectors.toCollection(TreeSet::new));
        Set<String> dirs = new TreeSet<>();
        try (var l = Files.list(Path.of(System.getProperty("java.io.tmpdir")))) {
            l.map(p -> p.getFileName().toString()).filter(n -> n.startsWith("meshauth-demo")).forEach(dirs::add);
        }
        return new HostState(ns, links, progs, dirs);
    }

    static void assertNothingLeft(HostState before) throws Exception {
        // Programs are freed after an RCU grace period: wait for the host to be as before, bounded.
        try {
            eventually("the host as before the demo", Duration.ofSeconds(10), () -> host().equals(before));
        } catch (AssertionError e) {
            // the assertions below name what differs
        }
        HostState after = host();
        assertThat(after.namespaces()).as("namespaces").isEqualTo(before.namespaces());
        assertThat(after.links()).as("host links").isEqualTo(before.links());
        assertThat(after.programs()).as("meshauth programs").isEqualTo(before.programs());
        assertThat(after.demoDirs()).as("demo directories, bpffs pins inside").isEqualTo(before.demoDirs());
    }

    @Test
    void everyStepBehavesAsTheGuideSaysAndNothingIsLeftBehind() throws Exception {
        HostState before = host();
        StringWriter text = new StringWriter();
        ch.qos.logback.classic.Logger root = (ch.qos.logback.classic.Logger) org.slf4j.LoggerFactory.getLogger(
                org.slf4j.Logger.ROOT_LOGGER_NAME);
        ch.qos.logback.core.read.ListAppender<ch.qos.logback.classic.spi.ILoggingEvent> logs =
                new ch.qos.logback.core.read.ListAppender<>();
        logs.start();
        root.addAppender(logs);
        try (Demo demo = new Demo(new PrintWriter(text), false, dev.meshauth.agent.cli.Main::runInto)) {
            demo.run();
        } finally {
            root.detachAppender(logs);
        }
        assertThat(logs.list).as("no warning but the dev server's own notice (no SO_KEEPALIVE on Unix sockets, no"
                        + " handshake before the SVIDs)")
                .filteredOn(e -> e.getLevel().isGreaterOrEqual(ch.qos.logback.classic.Level.WARN))
                .allSatisfy(e -> assertThat(e.getLoggerName()).endsWith("DevServer"));
        String out = text.toString();
        assertThat(out).contains("OK: node-1 authenticated (deathstar, tiefighter) ahead of traffic")
                .contains("OK: the deathstar got its answer")
                .contains("OK: xwing's request timed out (dropped by policy)")
                .contains("OK: the datapath counted policy drops")
                .contains("deathstar answered: Ship landed")
                .contains("OK: zero auth drops")
                .contains("OK: the entry (deathstar, tiefighter, node 2, spire) is in the kernel map")
                .containsPattern("1001\\s+1002\\s+2\\s+spire") // the bpf auth list row
                .containsPattern("HANDSHAKE\\s+succeeded\\s+1001 <-> 1002 node=2 auth=spire origin=(policy|retry)")
                .contains("OK: node-1 logged the deletion, reason svid-removed")
                .contains("OK: tiefighter's request fails now")
                .contains("node-1 holds 3 SVIDs: 1 for identities it hosts, 2 for identities it does not host")
                .contains("`--spire real` shows each node with its own")
                .contains("All steps behaved as Cilium's mutual-authentication guide says.");
        assertNothingLeft(before);
    }

    @Test
    void reactiveDropsTheFirstSynAsCiliumDoesAndPutsItBack() throws Exception {
        HostState before = host();
        StringWriter text = new StringWriter();
        try (Demo demo = new Demo(new PrintWriter(text), new DemoOptions(false, true, false, false), dev.meshauth.agent.cli.Main::runInto)) {
            demo.run();
        }
        String out = text.toString();
        assertThat(out).contains("OK: no auth entry before traffic (reactive, as in Cilium)")
                .contains("OK: Ship landed\n")
                .containsPattern("OK: the first packet was dropped for lack of authentication \\(auth drops: [1-9]\\d*\\)")
                .containsPattern("OK: the SYN was held and put back: no wait for TCP's retransmit \\(held SYNs: [1-9]\\d*, \\d+ ms\\)")
                .containsPattern("DROP\\s+auth-required\\s+1001 <-> 1002")
                .containsPattern("HANDSHAKE\\s+succeeded\\s+1001 <-> 1002 node=2 auth=spire origin=signal")
                .contains("All steps behaved as Cilium's mutual-authentication guide says.");
        assertNothingLeft(before);
    }
}
