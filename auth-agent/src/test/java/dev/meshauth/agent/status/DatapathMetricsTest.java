package dev.meshauth.agent.status;

import dev.meshauth.agent.auth.AuthManager;
import dev.meshauth.agent.metrics.AgentMetrics;
import io.prometheus.metrics.expositionformats.PrometheusTextFormatWriter;
import io.prometheus.metrics.config.EscapingScheme;
import org.junit.jupiter.api.Test;

import java.io.ByteArrayOutputStream;
import java.nio.charset.StandardCharsets;
import java.util.Map;
import java.util.concurrent.atomic.AtomicReference;

import static org.assertj.core.api.Assertions.assertThat;

/** The standalone datapath's kernel counters, read at scrape time: verdicts and conntrack events. */
class DatapathMetricsTest {
    private static Map<String, PromText.Family> scrape(AgentMetrics m) throws Exception {
        ByteArrayOutputStream out = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(out, m.registry().scrape(), EscapingScheme.UNDERSCORE_ESCAPING);
        return PromText.parse(out.toString(StandardCharsets.UTF_8));
    }

    @Test
    void verdictsAndConntrackEventsAreCountersLabelledByName() throws Exception {
        AtomicReference<Map<String, Long>> counters = new AtomicReference<>(Map.ofEntries(Map.entry("passed", 10L),
                Map.entry("dropped_policy", 2L), Map.entry("dropped_auth", 1L), Map.entry("dropped_fragment", 0L),
                Map.entry("signals_emitted", 1L), Map.entry("ct_created", 4L), Map.entry("ct_reply", 6L),
                Map.entry("ct_established", 3L), Map.entry("ct_related", 0L), Map.entry("syns_held", 5L),
                Map.entry("syns_held_lost", 0L), Map.entry("syns_reinjected", 4L), Map.entry("syns_expired", 1L)));
        AgentMetrics m = new AgentMetrics(new AgentMetrics.Sources(
                () -> new AuthManager.Stats(0, 0, 0, 0, 0, 0, 0, 0, Map.of()), () -> 100, Map::of, () -> 0, () -> 0,
                counters::get, () -> Map.of("accepted", 7L, "peer-limit", 40L)));
        Map<String, PromText.Family> f = scrape(m);
        assertThat(f.get("meshauth_datapath_packets_total").type()).isEqualTo("counter");
        assertThat(f.get("meshauth_datapath_packets_total").samples()).containsEntry("meshauth_datapath_packets_total{verdict=\"passed\"}", 10.0)
                .containsEntry("meshauth_datapath_packets_total{verdict=\"dropped_policy\"}", 2.0)
                .doesNotContainKey("meshauth_datapath_packets_total{verdict=\"signals_emitted\"}");
        assertThat(f.get("meshauth_conntrack_events_total").samples()).containsEntry("meshauth_conntrack_events_total{event=\"reply\"}", 6.0)
                .containsEntry("meshauth_conntrack_events_total{event=\"created\"}", 4.0);
        assertThat(f.get("meshauth_held_syns_total").samples()).as("kernel and agent counts of held SYNs, by outcome")
                .containsEntry("meshauth_held_syns_total{outcome=\"held\"}", 5.0)
                .containsEntry("meshauth_held_syns_total{outcome=\"reinjected\"}", 4.0)
                .containsEntry("meshauth_held_syns_total{outcome=\"expired\"}", 1.0)
                .doesNotContainKey("meshauth_held_syns_total{outcome=\"reply\"}");
        assertThat(f.get("meshauth_inbound_handshakes_total").samples()).as("the listener's own counts, every refusal")
                .containsEntry("meshauth_inbound_handshakes_total{reason=\"\",result=\"accepted\"}", 7.0)
                .containsEntry("meshauth_inbound_handshakes_total{reason=\"peer-limit\",result=\"refused\"}", 40.0);

        ByteArrayOutputStream text = new ByteArrayOutputStream();
        PrometheusTextFormatWriter.create().write(text, m.registry().scrape(), EscapingScheme.UNDERSCORE_ESCAPING);
        assertThat(RealPromParser.families(text.toString(StandardCharsets.UTF_8)))
                .containsEntry("meshauth_datapath_packets", "counter 4").containsEntry("meshauth_conntrack_events", "counter 4");
        org.assertj.core.api.Assertions.assertThatThrownBy(() -> RealPromParser.families("meshauth_x{a=\"b\" 1\n"))
                .as("the real parser does refuse malformed text").hasMessageContaining("refused the exposition");

        counters.set(Map.of());
        assertThat(scrape(m).get("meshauth_conntrack_events_total")).as("without a datapath: no samples")
                .satisfiesAnyOf(x -> assertThat(x).isNull(), x -> assertThat(x.samples()).isEmpty());
    }
}
