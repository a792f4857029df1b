package dev.meshauth.agent.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.meshauth.agent.status.StatusClient;
import dev.meshauth.agent.status.StatusModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code meshauth status}: one screen on whether mutual authentication is happening on this node. */
@Command(name = "status", mixinStandardHelpOptions = true,
        description = "Is mutual authentication working on this node? Agent, SPIRE, bundle, SVIDs, listener, datapath,"
                + " auth map, pending and failed authentications, problems.",
        footer = {"", "Exit codes: 0 healthy, 1 the agent reports problems or cannot be reached (the output says what)."})
public final class StatusCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    AgentSocket agent;

    @Mixin
    OutputOption output;

    @Option(names = "--verbose", description = "Add per-peer details and what of the policies is not enforced.")
    boolean verbose;

    @Override
    public Integer call() throws StatusClient.AgentException {
        StatusModel.AgentStatus s = agent.client().get(StatusClient.query("/v1/status", Map.of("verbose", verbose)),
                new TypeReference<>() { });
        output.print(spec.commandLine().getOut(), s, () -> render(s, verbose));
        return s.problems().isEmpty() ? ExitCodes.OK : ExitCodes.FAILURE;
    }

    static String render(StatusModel.AgentStatus s, boolean verbose) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("Agent:", "up on node " + s.node() + " (meshauth " + s.version() + ") since " + s.startedAt()));
        StatusModel.Spire sp = s.spire();
        rows.add(List.of("SPIRE:", (sp.connected() ? "connected" : sp.socketPresent() ? "NOT CONNECTED" : "ADMIN SOCKET MISSING")
                + " via " + sp.adminSocket() + " (reconnects " + sp.reconnects() + ", bundle updates " + sp.bundleChanges() + ")"));
        rows.add(List.of("Trust domain:", s.trustDomain()));
        if (s.bundle().isEmpty()) {
            rows.add(List.of("Bundle:", "none received"));
        }
        for (int i = 0; i < s.bundle().size(); i++) {
            StatusModel.BundleCa ca = s.bundle().get(i);
            rows.add(List.of(i == 0 ? "Bundle:" : "", "sha256:" + ca.fingerprint().substring(0, 16) + "... " + ca.subject()
                    + ", expires " + ca.notAfter() + " (" + until(s.now(), ca.notAfter()) + ")"));
        }
        rows.add(List.of("SVIDs:", s.svids().count() + (s.svids().earliestExpiry() == null ? ""
                : ", earliest expiry " + s.svids().earliestExpiry() + " (" + until(s.now(), s.svids().earliestExpiry()) + ")")));
        StatusModel.Listener l = s.listener();
        rows.add(List.of("Listener:", (l.address().contains(":") ? "[" + l.address() + "]" : l.address()) + ":" + l.port()
                + " TLS 1.3 (" + l.tlsProvider() + "), accepted "
                + l.accepted() + ", refused " + l.refused()));
        StatusModel.Datapath d = s.datapath();
        rows.add(List.of("Datapath:", d.mode() + ", auth map " + d.authMap() + " " + d.entries() + "/" + d.maxEntries()
                + " entries"));
        StatusModel.Auth a = s.auth();
        rows.add(List.of("Auth:", "required " + a.required() + ", held " + a.held() + ", pending " + a.pending() + ", missing "
                + a.missing() + "; succeeded " + a.succeeded() + ", failed " + a.failed() + ", queue drops " + a.queueDropped()));
        StatusModel.Policies pol = s.policies();
        rows.add(List.of("Policies:", pol.count() + ", reserved identities skipped " + pol.reservedSkipped()
                + ", not enforced " + pol.unenforced().size() + (pol.unenforced().isEmpty() || verbose ? "" : " (--verbose lists them)")));
        if (verbose) {
            pol.unenforced().forEach(u -> rows.add(List.of("", u)));
        }
        long gc = a.gcDeleted().values().stream().mapToLong(Long::longValue).sum();
        if (gc > 0) {
            StringBuilder sb = new StringBuilder();
            a.gcDeleted().forEach((k, v) -> {
                if (v > 0) {
                    sb.append(sb.isEmpty() ? "" : ", ").append(k).append(' ').append(v);
                }
            });
            rows.add(List.of("Deleted:", sb.toString()));
        }
        if (s.problems().isEmpty()) {
            rows.add(List.of("Problems:", "none"));
        }
        for (int i = 0; i < s.problems().size(); i++) {
            rows.add(List.of(i == 0 ? "Problems:" : "", s.problems().get(i)));
        }
        StringBuilder out = new StringBuilder(TextTable.render(rows).lines().map(String::stripTrailing)
                .reduce("", (x, y) -> x + y + "\n"));
        if (verbose && !s.peers().isEmpty()) {
            List<List<String>> peers = new ArrayList<>();
            peers.add(List.of("PEER NODE", "ID", "AGENT", "ENTRIES", "LAST HANDSHAKE", "AT"));
            for (StatusModel.Peer p : s.peers()) {
                peers.add(List.of(p.node(), Integer.toString(p.nodeId()), p.address(), Integer.toString(p.entries()),
                        p.lastResult() == null ? "-" : p.lastResult(), p.lastAt() == null ? "-" : p.lastAt().toString()));
            }
            out.append('\n').append(TextTable.render(peers));
        }
        return out.toString();
    }

    /** "in 59m", "in 2d3h", "EXPIRED 5m ago". */
    static String until(Instant now, Instant t) {
        Duration d = Duration.between(now, t);
        String abs = human(d.abs());
        return d.isNegative() ? "EXPIRED " + abs + " ago" : "in " + abs;
    }

    static String human(Duration d) {
        if (d.toDays() > 0) {
            return d.toDays() + "d" + d.toHoursPart() + "h";
        }
        if (d.toHours() > 0) {
            return d.toHours() + "h" + d.toMinutesPart() + "m";
        }
        if (d.toMinutes() > 0) {
            return d.toMinutes() + "m" + d.toSecondsPart() + "s";
        }
        return d.toSeconds() + "s";
    }
}
