package dev.meshauth.agent.demo;

import dev.meshauth.bpf.testing.KernelTest;
import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;
import java.nio.file.Files;
import java.nio.file.Path;

import static org.assertj.core.api.Assertions.assertThat;

/** {@code meshauth demo} end to end, as CI runs it (not on a terminal: no pauses). */
@KernelTest
class DemoKernelTest {
    @Test
    void everyStepBehavesAsTheGuideSaysAndNothingIsLeftBehind() throws Exception {
        StringWriter text = new StringWriter();
        try (Demo demo = new Demo(new PrintWriter(text), false)) {
            demo.run();
        }
        String out = text.toString();
        assertThat(out).contains("OK: xwing's request timed out (dropped by policy)")
                .contains("deathstar answered: Ship landed")
                .contains("OK: zero auth drops")
                .contains("OK: tiefighter's request fails now")
                .contains("All steps behaved as Cilium's mutual-authentication guide says.");
        try (var ns = Files.list(Path.of("/var/run/netns"))) {
            assertThat(ns.map(p -> p.getFileName().toString())).noneMatch(n -> n.startsWith("ma-demo-"));
        }
    }
}
