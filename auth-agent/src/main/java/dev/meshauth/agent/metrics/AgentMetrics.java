package dev.meshauth.agent.metrics;

import dev.meshauth.agent.events.Origin;

import dev.meshauth.agent.auth.AuthManager;
import dev.meshauth.agent.events.GcReason;
import dev.meshauth.agent.events.AuthEvent;
import io.prometheus.metrics.core.metrics.Counter;
import io.prometheus.metrics.core.metrics.CounterWithCallback;
import io.prometheus.metrics.core.metrics.GaugeWithCallback;
import io.prometheus.metrics.core.metrics.Histogram;
import io.prometheus.metrics.model.registry.PrometheusRegistry;

import java.time.Instant;
import java.util.Map;
import java.util.function.Consumer;
import java.util.function.LongSupplier;
import java.util.function.Supplier;

/**
 * The agent's Prometheus metrics, all named {@code meshauth_*}. Counters of things that happen are fed
 * by the auth event stream; levels (entries, SVIDs, expirations) are read from the agent at scrape time,
 * so a scrape always shows the present.
 */
public final class AgentMetrics implements Consumer<AuthEvent> {
    /** Latency buckets (seconds) from 0.5 ms to 10 s: a loopback handshake is a few ms, a timeout is seconds. */
    private static final double[] BUCKETS = {0.0005, 0.001, 0.002, 0.005, 0.01, 0.02, 0.05, 0.1, 0.25, 0.5, 1, 2.5, 5, 10};

    /**
     * What is read at scrape time.
     *
     * @param stats         the auth manager's counters
     * @param maxEntries    the auth map's capacity
     * @param svidNotAfter  identity to leaf NotAfter of every SVID held
     * @param reconnects    SPIRE stream reconnects
     * @param bundleChanges trust bundle updates received
     * @param datapath      the standalone datapath's kernel counters by name ("passed", "ct_reply"...); empty
     *                      without it
     * @param inbound       the listener's handshakes by outcome: "accepted", or a refusal reason ("not-hosted"...)
     */
    public record Sources(Supplier<AuthManager.Stats> stats, LongSupplier maxEntries, Supplier<Map<Long, Instant>> svidNotAfter,
            LongSupplier reconnects, LongSupplier bundleChanges, Supplier<Map<String, Long>> datapath,
            Supplier<Map<String, Long>> inbound) {
        /** Without a standalone datapath or a listener. */
        public Sources(Supplier<AuthManager.Stats> stats, LongSupplier maxEntries, Supplier<Map<Long, Instant>> svidNotAfter,
                LongSupplier reconnects, LongSupplier bundleChanges) {
            this(stats, maxEntries, svidNotAfter, reconnects, bundleChanges, Map::of, Map::of);
        }
    }

    /** The datapath counters that are verdicts (one per packet), the label of meshauth_datapath_packets_total. */
    private static final java.util.List<String> VERDICTS = java.util.List.of("passed", "dropped_policy", "dropped_auth",
            "dropped_fragment");

    private final PrometheusRegistry registry = new PrometheusRegistry();
    private final Counter handshakes;
    private final Histogram handshakeSeconds;
    private final Histogram signalToEntrySeconds;
    private final Counter signals;

    /** Registers every metric. */
    public AgentMetrics(Sources s) {
        handshakes = Counter.builder().name("meshauth_handshakes_total")
                .help("Mutual TLS authentications run by this agent, by result and failure reason")
                .labelNames("result", "reason").register(registry);
        handshakeSeconds = Histogram.builder().name("meshauth_handshake_duration_seconds")
                .help("Duration of one mutual authentication (connect, TLS 1.3, the server's verdict)")
                .labelNames("result").classicOnly().classicUpperBounds(BUCKETS).register(registry);
        signalToEntrySeconds = Histogram.builder().name("meshauth_signal_to_entry_seconds")
                .help("From an auth-required signal of the datapath to the entry written in the auth map")
                .classicOnly().classicUpperBounds(BUCKETS).register(registry);
        signals = Counter.builder().name("meshauth_auth_signals_total")
                .help("Auth-required signals received from the datapath (each one a dropped packet)").register(registry);
        CounterWithCallback.builder().name("meshauth_inbound_handshakes_total")
                .help("Handshakes of peer agents with this node's listener, by result and refusal reason (every one"
                        + " counted; the log and the events tell a flood's refusals in samples)")
                .labelNames("result", "reason")
                .callback(cb -> s.inbound().get().forEach((outcome, n) -> {
                    if (outcome.equals("accepted")) {
                        cb.call(n, "accepted", "");
                    } else {
                        cb.call(n, "refused", outcome);
                    }
                })).register(registry);
        CounterWithCallback.builder().name("meshauth_auth_requests_coalesced_total")
                .help("Auth requests merged into one already pending or recently stored")
                .callback(cb -> cb.call(s.stats().get().coalesced())).register(registry);
        CounterWithCallback.builder().name("meshauth_auth_requests_dropped_total")
                .help("Auth requests dropped because the queue (--mesh-auth-queue-size) was full")
                .callback(cb -> cb.call(s.stats().get().dropped())).register(registry);
        CounterWithCallback.builder().name("meshauth_gc_deletions_total")
                .help("Auth entries deleted, by reason").labelNames("reason")
                .callback(cb -> {
                    Map<GcReason, Long> gc = s.stats().get().gcDeleted();
                    for (GcReason r : GcReason.values()) {
                        cb.call(gc.getOrDefault(r, 0L), r.label());
                    }
                }).register(registry);
        GaugeWithCallback.builder().name("meshauth_auth_map_entries")
                .help("Auth entries this agent holds in the auth map").callback(cb -> cb.call(s.stats().get().cached()))
                .register(registry);
        GaugeWithCallback.builder().name("meshauth_auth_map_max_entries")
                .help("Capacity of the auth map").callback(cb -> cb.call(s.maxEntries().getAsLong())).register(registry);
        GaugeWithCallback.builder().name("meshauth_auth_map_pressure")
                .help("Auth map fill: entries / max entries (0..1)")
                .callback(cb -> cb.call((double) s.stats().get().cached() / Math.max(1, s.maxEntries().getAsLong())))
                .register(registry);
        GaugeWithCallback.builder().name("meshauth_auth_pending")
                .help("Authentications queued or in flight").callback(cb -> cb.call(s.stats().get().pending()))
                .register(registry);
        GaugeWithCallback.builder().name("meshauth_svids")
                .help("Workload X509-SVIDs held from SPIRE's Delegated Identity API")
                .callback(cb -> cb.call(s.svidNotAfter().get().size())).register(registry);
        GaugeWithCallback.builder().name("meshauth_cert_expiration_timestamp_seconds")
                .help("NotAfter of each SVID held, as a Unix timestamp").labelNames("identity")
                .callback(cb -> s.svidNotAfter().get().forEach((id, na) -> cb.call(na.getEpochSecond(), Long.toString(id))))
                .register(registry);
        CounterWithCallback.builder().name("meshauth_datapath_packets_total")
                .help("Packets the standalone datapath judged, by verdict (passed, dropped_policy, dropped_auth,"
                        + " dropped_fragment)").labelNames("verdict")
                .callback(cb -> s.datapath().get().forEach((name, n) -> {
                    if (VERDICTS.contains(name)) {
                        cb.call(n, name);
                    }
                })).register(registry);
        CounterWithCallback.builder().name("meshauth_conntrack_events_total")
                .help("Connection tracking of the standalone datapath: connections let through (created), packets"
                        + " passed as established, reply or related").labelNames("event")
                .callback(cb -> s.datapath().get().forEach((name, n) -> {
                    if (name.startsWith("ct_")) {
                        cb.call(n, name.substring(3));
                    }
                })).register(registry);
        CounterWithCallback.builder().name("meshauth_held_syns_total")
                .help("TCP SYNs the standalone datapath dropped for a missing auth entry and handed to the agent, by"
                        + " outcome: held, held_lost (not handed over: ring buffer full), reinjected (put back once the pair"
                        + " was authenticated), expired, overflowed (over the limits), failed").labelNames("outcome")
                .callback(cb -> s.datapath().get().forEach((name, n) -> {
                    if (name.startsWith("syns_")) {
                        cb.call(n, name.substring(5));
                    }
                })).register(registry);
        CounterWithCallback.builder().name("meshauth_spire_stream_reconnects_total")
                .help("Reconnects of the Delegated Identity API streams to the SPIRE agent")
                .callback(cb -> cb.call(s.reconnects().getAsLong())).register(registry);
        CounterWithCallback.builder().name("meshauth_trust_bundle_changes_total")
                .help("Trust bundle updates received from SPIRE")
                .callback(cb -> cb.call(s.bundleChanges().getAsLong())).register(registry);
    }

    @Override
    public void accept(AuthEvent e) {
        switch (e) {
            case AuthEvent.HandshakeSucceeded ok -> {
                handshakes.labelValues("success", "").inc();
                handshakeSeconds.labelValues("success").observe(ok.handshake().toNanos() / 1e9);
                if (ok.origin() == Origin.SIGNAL) {
                    signalToEntrySeconds.observe(ok.sinceRequest().toNanos() / 1e9);
                }
            }
            case AuthEvent.HandshakeFailed f -> {
                handshakes.labelValues("failure", f.reason().label()).inc();
                handshakeSeconds.labelValues("failure").observe(f.handshake().toNanos() / 1e9);
            }
            case AuthEvent.AuthRequiredDrop d -> signals.inc();
            case AuthEvent.EntryDeleted d -> { }
            case AuthEvent.SvidRotated r -> { }
            case AuthEvent.InboundHandshake i -> { } // counted from the listener's own counters
        }
    }

    /** The registry (scraped by {@link MetricsServer}). */
    public PrometheusRegistry registry() {
        return registry;
    }
}
