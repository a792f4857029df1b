package dev.meshauth.agent.status;

import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;

/**
 * The tables the CLI prints, rendered by the agent (as the Kubernetes API server renders tables for
 * kubectl): the CLI asks with {@code output=table} and prints what it gets, so it needs no JSON binding
 * and starts fast, and a newer agent's fields show up with an older CLI.
 */
public final class Printers {
    private Printers() {
    }

    /** {@code meshauth status}: one screen; with {@code verbose}, peers and what is not enforced. */
    public static String status(StatusModel.AgentStatus s, boolean verbose) {
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

    /**
     * {@code meshauth certs}: what {@code node} holds, against what it hosts, then one row per SVID, rotation
     * relative to {@code now}; empty if none.
     */
    public static String certs(String node, List<StatusModel.Cert> certs, java.util.Set<Long> hosted, Instant now) {
        if (certs.isEmpty()) {
            return "";
        }
        long forHosted = certs.stream().filter(StatusModel.Cert::hosted).count();
        java.util.Set<Long> missing = new java.util.TreeSet<>(hosted);
        certs.forEach(c -> missing.remove(c.identity()));
        StringBuilder head = new StringBuilder(node + " holds " + certs.size() + " SVID" + (certs.size() == 1 ? "" : "s") + ": "
                + forHosted + " for identities it hosts, " + (certs.size() - forHosted) + " for identities it does not host");
        if (certs.size() > forHosted) {
            head.append(" (keys this node does not need: registered cluster-wide, or its SPIRE agent serves other nodes too)");
        }
        if (!missing.isEmpty()) {
            head.append("; hosted without an SVID yet: ").append(missing);
        }
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("IDENTITY", "HOSTED", "SPIFFE ID", "SERIAL", "NOT BEFORE", "NOT AFTER", "ROTATION", "ISSUER"));
        for (StatusModel.Cert c : certs) {
            rows.add(List.of(Long.toString(c.identity()), c.hosted() ? "yes" : "no", c.spiffeId(), c.serial(),
                    c.notBefore().toString(), c.notAfter().toString(), rotation(now, c.rotatesAt()), c.issuer()));
        }
        return head + "\n\n" + TextTable.render(rows);
    }

    /** SPIRE rotates at half-life: "in 29m", or "overdue 3m" when it has not. */
    static String rotation(Instant now, Instant at) {
        Duration d = Duration.between(now, at);
        return d.isNegative() ? "overdue " + human(d.abs()) : "in " + human(d);
    }

    /** {@code meshauth check}: the verdict and why. */
    public static String check(StatusModel.Check c) {
        return TextTable.render(List.of(
                List.of("Verdict:", c.verdict()),
                List.of("Traffic:", c.from() + " -> " + c.to() + " " + c.protocol() + "/" + c.port()),
                List.of("Auth type:", c.authType()),
                List.of("Expiration:", c.expiration() == null ? "-" : c.expiration().toString()),
                List.of("Enforced on:", c.enforcedOn()),
                List.of("Enforced by:", c.enforcedBy() == null ? "-" : c.enforcedBy()),
                List.of("Reason:", c.reason())));
    }

    /** The exit code of {@code meshauth check}: 0 if the traffic passes (allowed, or not enforced), else 1. */
    public static int checkExitCode(StatusModel.Check c) {
        return c.verdict().equals("allowed") || c.verdict().equals("not-enforced") ? 0 : 1;
    }

    /** One line per event, fields in a fixed order, absent ones left out. */
    public static String event(StatusModel.Event e) {
        StringBuilder sb = new StringBuilder();
        sb.append(e.time()).append("  ").append(String.format("%-9s %-13s", e.type().toUpperCase(java.util.Locale.ROOT),
                e.event()));
        if (e.localIdentity() != null && e.remoteIdentity() != null) {
            sb.append(' ').append(e.localIdentity()).append(" <-> ").append(e.remoteIdentity());
        } else if (e.localIdentity() != null) {
            sb.append(" identity ").append(e.localIdentity());
        }
        if (e.remoteNodeId() != null) {
            sb.append(" node=").append(e.remoteNodeId());
        }
        if (e.authType() != null) {
            sb.append(" auth=").append(e.authType());
        }
        if (e.origin() != null) {
            sb.append(" origin=").append(e.origin());
        }
        if (e.reason() != null) {
            sb.append(" reason=").append(e.reason());
        }
        if (e.durationMs() != null) {
            sb.append(String.format(java.util.Locale.ROOT, " %.1fms", e.durationMs()));
        }
        if (e.expiration() != null) {
            sb.append(" expires=").append(e.expiration());
        }
        if (e.detail() != null && !e.detail().isEmpty()) {
            sb.append(" (").append(e.detail()).append(')');
        }
        return sb.toString();
    }
}
