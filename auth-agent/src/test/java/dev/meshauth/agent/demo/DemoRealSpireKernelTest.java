package dev.meshauth.agent.demo;

import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.spire.testing.RealSpireTest;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.util.List;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * {@code meshauth demo --spire real}: the same guide with the real spire-server and one spire-agent per
 * node, every step's check the same as with the dev server; afterwards no SPIRE process, namespace, link,
 * program or directory of the demo is left.
 */
@KernelTest
@RealSpireTest
class DemoRealSpireKernelTest {
    private static List<ProcessHandle> spireProcesses() {
        return ProcessHandle.allProcesses().filter(p -> p.info().command().map(c -> c.endsWith("/spire-server")
                || c.endsWith("/spire-agent")).orElse(false)).toList();
    }

    @Test
    void theGuideBehavesTheSameWithTheRealSpire() throws Exception {
        DemoKernelTest.HostState before = DemoKernelTest.host();
        List<ProcessHandle> spireBefore = spireProcesses();
        StringWriter text = new StringWriter();
        try (Demo demo = new Demo(new PrintWriter(text), new DemoOptions(false, false, false, false, true), dev.meshauth.agent.cli.Main::runInto)) {
            demo.run();
        }
        String out = text.toString();
        assertThat(out).contains("Start a real SPIRE: spire-server and one spire-agent per node")
                .containsPattern("spire-server \\d+\\.\\d+\\.\\d+ and 2 spire-agents up")
                .contains("OK: three SPIRE entries registered")
                .contains("OK: node-1 authenticated (deathstar, tiefighter) ahead of traffic")
                .contains("OK: xwing's request timed out (dropped by policy)")
                .contains("deathstar answered: Ship landed")
                .contains("OK: zero auth drops")
                .containsPattern("1001\\s+1002\\s+2\\s+spire")
                .contains("node-1 holds 1 SVID: 1 for identities it hosts, 0 for identities it does not host")
                .contains("OK: node-1 holds the deathstar's key only")
                .contains("OK: node-2 holds the tiefighter's and the xwing's keys only")
                .contains("OK: node-1 logged the deletion, reason svid-removed")
                .contains("OK: tiefighter's request fails now")
                .contains("All steps behaved as Cilium's mutual-authentication guide says.");
        DemoKernelTest.assertNothingLeft(before);
        assertThat(spireProcesses()).as("SPIRE processes").hasSameElementsAs(spireBefore);
    }
}
