package dev.meshauth.agent.demo;

import org.junit.jupiter.api.Test;

import java.io.PrintWriter;
import java.io.StringWriter;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** {@code meshauth demo --datapath memory}: the labelled simulation, no kernel objects. */
class DemoSimulationTest {
    @Test
    void theSimulationIsLabelledAndEveryVerdictMatchesTheGuide() throws Exception {
        StringWriter text = new StringWriter();
        try (Demo demo = new Demo(new PrintWriter(text), new DemoOptions(false, false, false, true), dev.meshauth.agent.cli.Main::runInto)) {
            demo.run();
        }
        String out = text.toString();
        assertThat(out).startsWith("SIMULATION (--datapath memory)")
                .contains("OK: xwing -> deathstar: denied-by-policy")
                .contains("OK: tiefighter -> deathstar: allowed")
                .containsPattern("Verdict:\\s+allowed")
                .containsPattern("Datapath:\\s+memory")
                .containsPattern("HANDSHAKE\\s+succeeded\\s+1001 <-> 1002")
                .contains("OK: tiefighter -> deathstar: auth-required-missing (simulated: would be dropped)")
                .contains("(Simulated: run as root without --datapath memory to see packets dropped.)");
    }

    @Test
    void reactiveNeedsTheKernel() {
        assertThatThrownBy(() -> new DemoOptions(false, true, false, true)).hasMessageContaining("needs the kernel datapath");
    }
}
