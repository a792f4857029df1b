package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManager;
import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.handshake.TrustAnchors;
import dev.meshauth.agent.status.Events;
import dev.meshauth.agent.status.Json;
import dev.meshauth.agent.status.Printers;
import dev.meshauth.agent.status.Render;
import dev.meshauth.agent.status.StatusModel;
import dev.meshauth.agent.status.StatusServer;
import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.policy.endpoint.Endpoint;
import dev.meshauth.policy.endpoint.NodeInfo;
import dev.meshauth.policy.eval.Budget;
import dev.meshauth.policy.eval.PolicyEngine;
import dev.meshauth.policy.eval.Verdict;
import dev.meshauth.policy.model.Direction;
import dev.meshauth.spire.svid.WorkloadSvid;

import java.nio.file.Files;
import java.security.cert.X509Certificate;
import java.time.Duration;
import java.time.Instant;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.List;
import java.util.Locale;
import java.util.Map;
import java.util.Optional;
import java.util.OptionalInt;
import java.util.Set;
import java.util.TreeMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

/**
 * The routes of the agent's status API: {@code /v1/status[?verbose=true]}, {@code /v1/certs},
 * {@code /v1/entries[?identity=N]}, {@code /v1/events[?follow=true&identity=N&type=T]} and
 * {@code /v1/check?from=&to=[&port=&protocol=]}.
 */
final class AgentStatusApi implements StatusServer.Handler {
    private final AgentView agent;

    AgentStatusApi(AgentView agent) {
        this.agent = agent;
    }

    @Override
    public StatusServer.Response handle(StatusServer.Request r) throws Exception {
        Optional<String> output = r.param("output");
        if (output.isPresent() && !List.of("table", "json", "yaml").contains(output.get())) {
            return StatusServer.Response.error(r, 400, "output must be table, json or yaml, got '" + output.get() + "'");
        }
        return switch (r.path()) {
            case "/v1/status" -> {
                boolean verbose = r.param("verbose").map(Boolean::parseBoolean).orElse(false);
                StatusModel.AgentStatus s = status(verbose);
                yield printed(r, json(s), () -> Printers.status(s, verbose), s.problems().isEmpty() ? 0 : 1, "");
            }
            case "/v1/certs" -> {
                Set<Long> hosted = agent.cluster().localIdentities();
                List<StatusModel.Cert> certs = certs(hosted);
                String node = agent.config().nodeName();
                yield printed(r, json(certs), () -> Printers.certs(node, certs, hosted, agent.clock().instant()), 0,
                        certs.isEmpty() ? "No SVIDs held on " + node + "." : "");
            }
            case "/v1/entries" -> printed(r, json(entries(r.param("identity").map(AgentStatusApi::identity))), null, 0, "");
            case "/v1/events" -> events(r);
            case "/v1/check" -> {
                StatusServer.Response c = check(r);
                yield c instanceof StatusServer.Response.Json(int code, StatusModel.Check v)
                        ? printed(r, c, () -> Printers.check(v), Printers.checkExitCode(v), "") : printed(r, c, null, 1, "");
            }
            default -> StatusServer.Response.error(r, 404, "no such resource: " + r.path()
                    + " (served: /v1/status, /v1/certs, /v1/entries, /v1/events, /v1/check)");
        };
    }

    private static StatusServer.Response json(Object body) {
        return new StatusServer.Response.Json(200, body);
    }

    /**
     * {@code answer} as the request's {@code output} wants it: unchanged without one (the JSON API); else
     * printed for the CLI, as JSON, YAML or the {@code table} (null: no table for this resource), with the
     * command's exit code.
     */
    private static StatusServer.Response printed(StatusServer.Request r, StatusServer.Response answer,
            java.util.function.Supplier<String> table, int exitCode, String notice) {
        Optional<String> output = r.param("output");
        if (output.isEmpty() || !(answer instanceof StatusServer.Response.Json(int code, Object body))) {
            return answer;
        }
        if (code != 200) {
            String error = body instanceof Map<?, ?> m && m.get("error") != null ? m.get("error").toString() : body.toString();
            return StatusServer.Response.error(r, code, error);
        }
        String text = switch (output.get()) {
            case "json" -> Render.json(body) + "\n";
            case "yaml" -> Render.yaml(body);
            default -> {
                if (table == null) {
                    yield Render.json(body) + "\n"; // no table for this resource: its JSON
                }
                yield table.get();
            }
        };
        return new StatusServer.Response.Printed(200, text, exitCode, notice);
    }

    /** One event as {@code output} prints it: a table line, a JSON line, or a YAML document. */
    private static String eventLine(String output, StatusModel.Event e) {
        return switch (output) {
            case "json" -> Render.jsonLine(e);
            case "yaml" -> ("---\n" + Render.yaml(e)).stripTrailing();
            default -> Printers.event(e);
        };
    }

    private static long identity(String s) {
        try {
            long v = Long.parseLong(s);
            if (v <= 0 || v > 0xFFFF_FFFFL) {
                throw new NumberFormatException();
            }
            return v;
        } catch (NumberFormatException e) {
            throw new IllegalArgumentException("identity must be a number from 1 to 4294967295, got '" + s + "'");
        }
    }

    StatusModel.AgentStatus status(boolean verbose) throws BpfException {
        ClusterView.State s = agent.cluster();
        AgentConfig c = agent.config();
        Instant now = agent.clock().instant();
        AuthManager.Stats st = agent.auth().stats();
        Map<Long, WorkloadSvid> svids = agent.identities().svids();
        Instant earliest = svids.values().stream().map(WorkloadSvid::notAfter).min(Comparator.naturalOrder()).orElse(null);
        List<StatusModel.BundleCa> bundle = agent.identities().roots().stream().map(x -> new StatusModel.BundleCa(
                TrustAnchors.fingerprint(x), x.getSubjectX500Principal().getName(), x.getNotAfter().toInstant())).toList();
        boolean socketPresent = Files.exists(c.adminSocket());
        StatusModel.Spire spire = new StatusModel.Spire(c.adminSocket().toString(), socketPresent, agent.spire().connected(),
                agent.spire().lastError(), agent.identities().reconnects(), agent.spire().bundleChanges());
        Map<String, Long> gc = new TreeMap<>();
        st.gcDeleted().forEach((k, v) -> gc.put(k.label(), v));
        List<AuthManager.Held> entries = agent.auth().held(); // read once from the kernel map: the truth, not the cache
        int missing = agent.auth().missing(entries).size();
        int held = entries.size();
        AgentView.Listener l = agent.listener();
        StatusModel.Auth auth = new StatusModel.Auth(s.required().size(), held, st.pending(), missing, st.succeeded(),
                st.failed(), st.dropped(), st.coalesced(), gc);
        long max = agent.authMap().maxEntries();
        return new StatusModel.AgentStatus(c.nodeName(), version(), agent.startedAt(), now, spire, c.trustDomain().getName(),
                bundle, new StatusModel.Svids(svids.size(), earliest),
                new StatusModel.Listener(l.address(), l.port(), l.provider(), l.accepted(), l.refused()),
                new StatusModel.Datapath(c.datapathMode().toString(), agent.authMap().location(), held, max), auth,
                new StatusModel.Policies(s.cluster().policies().size(), st.reservedSkipped(),
                        s.cluster().policies().stream().flatMap(p -> p.unenforced().stream()).distinct().toList()),
                problems(spire, svids, missing, held, st, max), verbose ? peers(s, entries) : List.of());
    }

    private List<String> problems(StatusModel.Spire spire, Map<Long, WorkloadSvid> svids, int missing, int held,
            AuthManager.Stats st, long max) {
        List<String> out = new ArrayList<>();
        if (!spire.socketPresent()) {
            out.add("SPIRE admin socket not found at " + spire.adminSocket() + ": is the SPIRE agent running with"
                    + " admin_socket_path set (and the socket mounted into this agent)?");
        } else if (!spire.connected()) {
            out.add("SPIRE agent not connected at " + spire.adminSocket() + (spire.lastError() == null ? ""
                    : ": " + spire.lastError()) + "; SVIDs held are served until they expire");
        } else if (svids.isEmpty() && !agent.cluster().localIdentities().isEmpty()) {
            String td = agent.config().trustDomain().getName();
            out.add("no SVIDs held although this node runs endpoints: are the SPIRE entries registered (meshauth operator),"
                    + " and does this node's SPIRE agent receive their parent? SPIRE delivers an entry only down its agent's"
                    + " tree: with --registration node the parent must be this node's agent ID or alias as"
                    + " --node-parent-template renders it for " + agent.config().nodeName() + " (node name and UID as the"
                    + " operator sees them); with --registration cluster an entry for spiffe://" + td + "/cilium-operator"
                    + " must be parented to this agent or its node alias");
        }
        if (missing > 0) {
            String last = agent.events().recent().reversed().stream()
                    .filter(e -> e instanceof AuthEvent.HandshakeFailed).findFirst()
                    .map(e -> ((AuthEvent.HandshakeFailed) e)).map(f -> "; last failure: " + f.key().localIdentity() + "->"
                            + f.key().remoteIdentity() + " " + f.reason().label() + ": " + f.detail()).orElse("");
            out.add(missing + " required pair(s) not authenticated yet" + last);
        }
        if (st.dropped() > 0) {
            out.add(st.dropped() + " auth request(s) dropped: the queue was full (raise --mesh-auth-queue-size)");
        }
        if (max > 0 && held > 0.9 * max) {
            out.add("auth map " + held + "/" + max + " entries: nearly full");
        }
        agent.sourceProblems().forEach((where, what) -> out.add("refused (last good state kept): " + where + ": " + what));
        agent.viewRefusal().ifPresent(why -> out.add("cluster view refused (last good state kept): " + why));
        List<String> unkeyed = agent.cluster().unkeyed();
        if (!unkeyed.isEmpty()) {
            out.add("nodes without an id in Cilium's node map yet, their pairs wait: " + String.join(", ", unkeyed)
                    + " (is Cilium running on this node and does it know them?)");
        }
        return out;
    }

    private List<StatusModel.Peer> peers(ClusterView.State s, List<AuthManager.Held> held) {
        List<StatusModel.Peer> out = new ArrayList<>();
        List<AuthEvent> recent = agent.events().recent();
        for (NodeInfo n : s.cluster().nodes()) {
            if (n.name().equals(s.self().name())) {
                continue;
            }
            int entries = (int) held.stream().filter(h -> h.key().remoteNodeId() == n.id()).count();
            Optional<AuthEvent> last = recent.reversed().stream().filter(e -> switch (e) {
                case AuthEvent.HandshakeSucceeded ok -> ok.key().remoteNodeId() == n.id();
                case AuthEvent.HandshakeFailed f -> f.key().remoteNodeId() == n.id();
                case AuthEvent.AuthRequiredDrop _ -> false; // not a handshake with the peer
                case AuthEvent.EntryDeleted _ -> false;
                case AuthEvent.SvidRotated _ -> false;
                case AuthEvent.InboundHandshake _ -> false; // the peers' view of this node, not this node's of them
            }).findFirst();
            out.add(new StatusModel.Peer(n.name(), n.id(), n.internalIp() + ":" + agent.config().port(), entries,
                    last.map(e -> e instanceof AuthEvent.HandshakeFailed f ? "failed: " + f.reason().label() : "succeeded").orElse(null),
                    last.map(AuthEvent::at).orElse(null)));
        }
        return out;
    }

    List<StatusModel.Cert> certs(Set<Long> hosted) {
        List<StatusModel.Cert> out = new ArrayList<>();
        new TreeMap<>(agent.identities().svids()).forEach((id, svid) -> {
            X509Certificate leaf = svid.leaf();
            Instant nb = svid.notBefore();
            Instant na = svid.notAfter();
            out.add(new StatusModel.Cert(id, svid.spiffeId().toString(), svid.serial(), nb, na,
                    nb.plus(Duration.between(nb, na).dividedBy(2)), leaf.getIssuerX500Principal().getName(), hosted.contains(id)));
        });
        return out;
    }

    List<StatusModel.Entry> entries(Optional<Long> identity) throws BpfException {
        Map<Integer, String> names = new TreeMap<>();
        agent.cluster().cluster().nodes().forEach(n -> names.put(n.id(), n.name()));
        names.put(0, agent.config().nodeName());
        return agent.auth().held().stream()
                .filter(h -> identity.isEmpty() || h.key().localIdentity() == identity.get()
                        || h.key().remoteIdentity() == identity.get())
                .sorted(Comparator.comparing((AuthManager.Held h) -> h.key().localIdentity())
                        .thenComparing(h -> h.key().remoteIdentity()).thenComparing(h -> h.key().remoteNodeId()))
                .map(h -> new StatusModel.Entry(h.key().localIdentity(), h.key().remoteIdentity(), h.key().remoteNodeId(),
                        names.getOrDefault(h.key().remoteNodeId(), "?"), h.key().authType().toString(), h.expiresAt(),
                        h.origin().map(dev.meshauth.agent.events.Origin::label).orElse("external"), h.storedAt()))
                .toList();
    }

    private StatusServer.Response events(StatusServer.Request r) {
        boolean follow = r.param("follow").map(Boolean::parseBoolean).orElse(false);
        Optional<Long> id = r.param("identity").map(AgentStatusApi::identity);
        Set<AuthEvent.Kind> kinds = r.param("type").map(AgentStatusApi::kinds).orElse(EnumSet.allOf(AuthEvent.Kind.class));
        java.util.function.Predicate<AuthEvent> wanted = e -> kinds.contains(e.kind()) && (id.isEmpty() || e.involves(id.get()));
        Optional<String> output = r.param("output");
        java.util.function.Function<StatusModel.Event, String> line = e -> output.isPresent() ? eventLine(output.get(), e)
                : Render.jsonLine(e);
        if (!follow) {
            List<StatusModel.Event> recent = agent.events().recent().stream().filter(wanted).map(Events::of).toList();
            if (output.isEmpty()) {
                return json(recent);
            }
            StringBuilder text = new StringBuilder();
            recent.forEach(e -> text.append(line.apply(e)).append('\n'));
            return new StatusServer.Response.Printed(200, text.toString(), 0, "");
        }
        StatusServer.LinesBody body = sink -> {
            LinkedBlockingQueue<AuthEvent> queue = new LinkedBlockingQueue<>(10_000);
            java.util.concurrent.atomic.AtomicLong lost = new java.util.concurrent.atomic.AtomicLong();
            try (AutoCloseable sub = agent.events().subscribe(e -> {
                // A client too slow for 10k events loses the newest, never blocks the agent, and is told so.
                if (wanted.test(e) && !queue.offer(e)) {
                    lost.incrementAndGet();
                }
            }, true)) {
                while (!sink.clientGone()) {
                    AuthEvent e = queue.poll(1, TimeUnit.SECONDS);
                    long missed = lost.getAndSet(0);
                    if (missed > 0) {
                        sink.line(line.apply(new StatusModel.Event(agent.clock().instant(), "lost",
                                "dropped", null, null, null, null, null, null, null, null,
                                missed + " events dropped: this client read too slowly")));
                    }
                    if (e != null) {
                        sink.line(line.apply(Events.of(e)));
                    }
                }
            } catch (java.io.IOException | InterruptedException e) {
                throw e;
            } catch (Exception e) {
                throw new java.io.IOException(e);
            }
        };
        return output.isPresent() ? new StatusServer.Response.PrintedLines(body) : new StatusServer.Response.Lines(body);
    }

    private static Set<AuthEvent.Kind> kinds(String csv) {
        Set<AuthEvent.Kind> out = EnumSet.noneOf(AuthEvent.Kind.class);
        for (String t : csv.split(",")) {
            try {
                out.add(AuthEvent.Kind.valueOf(t.trim().toUpperCase(Locale.ROOT)));
            } catch (IllegalArgumentException e) {
                throw new IllegalArgumentException("type must be handshake, drop, gc or rotation, got '" + t + "'");
            }
        }
        return out;
    }

    /** The protocol number {@code check --protocol ANY} stands for: one no rule can name (experimental, RFC 3692). */
    private static final int ANY_PROTOCOL = 253;

    private StatusServer.Response check(StatusServer.Request r) throws BpfException {
        ClusterView.State s = agent.cluster();
        String fromRef = r.param("from").orElseThrow(() -> new IllegalArgumentException("from is required"));
        String toRef = r.param("to").orElseThrow(() -> new IllegalArgumentException("to is required"));
        Endpoint from = resolve(fromRef, s.cluster().endpoints());
        Endpoint to = resolve(toRef, s.cluster().endpoints());
        int port = r.param("port").map(p -> {
            try {
                int v = Integer.parseInt(p);
                if (v < 0 || v > 65535) {
                    throw new NumberFormatException();
                }
                return v;
            } catch (NumberFormatException e) {
                throw new IllegalArgumentException("port must be 0..65535, got '" + p + "'");
            }
        }).orElse(0);
        String protocol = r.param("protocol").orElse("TCP").toUpperCase(Locale.ROOT);
        int proto = switch (protocol) {
            case "TCP" -> 6;
            case "UDP" -> 17;
            case "SCTP" -> 132;
            case "ICMP" -> 1;
            case "ICMPV6" -> 58;
            case "ANY" -> ANY_PROTOCOL;
            default -> throw new IllegalArgumentException("protocol must be TCP, UDP, SCTP, ICMP, ICMPv6 or ANY, got '"
                    + protocol + "'");
        };
        if ((proto == 1 || proto == 58) && port > 255) {
            throw new IllegalArgumentException("with " + protocol + ", --port is the ICMP type: 0..255, got " + port);
        }
        if (proto == ANY_PROTOCOL && port != 0) {
            throw new IllegalArgumentException("protocol ANY has no ports: leave --port out");
        }
        String f = from.id();
        String t = to.id();
        if (proto == 58 && dev.meshauth.bpf.datapath.EnforcementProgram.ICMPV6_ALWAYS_PASSED.contains(port)) {
            return json(new StatusModel.Check(f, t, port, protocol, "not-enforced", "disabled", null,
                    "ICMPv6 type " + port + " is neighbour discovery or multicast listener signalling, IPv6's ARP: it always"
                            + " passes", to.node(), null));
        }
        if (from.id().equals(to.id())) {
            return json(new StatusModel.Check(f, t, port, protocol, "not-enforced", "disabled", null,
                    "traffic from a pod to its own address stays on the pod's loopback and never meets the datapath,"
                            + " in Cilium as in meshauth: no policy or authentication applies", to.node(), null));
        }
        // The node's evaluation covers its own identities only: evaluate the two sides asked about.
        PolicyEngine pair = PolicyEngine.evaluate(s.cluster().policies(), s.cluster().endpoints(), Budget.UNLIMITED,
                id -> id == from.identity() || id == to.identity());
        return switch (pair.verdict(from.identity(), to.identity(), port, proto)) {
            case Verdict.Denied d -> {
                Endpoint side = d.side() == Direction.EGRESS ? from : to;
                yield json(new StatusModel.Check(f, t, port, protocol, "denied-by-policy", "disabled", null,
                        sideName(d.side()) + side.id() + " denied: " + String.join(", ", d.reasons()), side.node(),
                        sideName(d.side()) + side.id()));
            }
            case Verdict.Allowed a -> json(new StatusModel.Check(f, t, port, protocol, "allowed", "disabled", null,
                    (a.selected() ? "allowed by " + String.join(", ", a.reasons()) : "no policy selects either endpoint")
                            + "; no authentication required; replies and established traffic pass", to.node(), null));
            case Verdict.AuthRequired a -> authCheck(s, a, a.side() == Direction.INGRESS ? to : from,
                    a.side() == Direction.INGRESS ? from : to, f, t, port, protocol);
        };
    }

    private static String sideName(Direction side) {
        return side == Direction.INGRESS ? "ingress of " : "egress of ";
    }

    /** An auth-required verdict against this node's auth map. */
    private StatusServer.Response authCheck(ClusterView.State s, Verdict.AuthRequired a, Endpoint local, Endpoint remote,
            String f, String t, int port, String protocol) throws BpfException {
        if (!local.node().equals(s.self().name())) {
            return new StatusServer.Response.Json(409, Map.of("error", "the pair is enforced on node " + local.node()
                    + ", this agent serves " + s.self().name() + ": ask that node's agent (its --status-socket)"));
        }
        String authType = a.type().toString();
        String because = sideName(a.side()) + local.id() + " requires " + authType + " by " + String.join(", ", a.reasons());
        String by = sideName(a.side()) + local.id();
        OptionalInt remoteNode = NodeInfo.remoteNodeId(local.node(), remote.node(), NodeInfo.idsByName(s.cluster().nodes()));
        if (remoteNode.isEmpty()) {
            return json(new StatusModel.Check(f, t, port, protocol, "auth-required-missing", authType, null,
                    because + "; " + remote.id() + "'s node " + remote.node() + " has no node id yet, so the pair cannot be"
                            + " authenticated until it has one", local.node(), by));
        }
        AuthKey key = new AuthKey(a.localIdentity(), a.remoteIdentity(), remoteNode.getAsInt(), new AuthType(a.type().code()));
        Optional<AuthInfo> entry = agent.authMap().get(key);
        Instant now = agent.clock().instant();
        if (entry.isEmpty()) {
            return json(new StatusModel.Check(f, t, port, protocol, "auth-required-missing", authType, null,
                    because + "; no auth entry for " + key.localIdentity() + "->" + key.remoteIdentity() + " (remote node "
                            + key.remoteNodeId() + "): the first packet is dropped while the agents authenticate",
                    local.node(), by));
        }
        Instant exp = entry.get().expiresAt();
        if (!now.isBefore(exp)) {
            return json(new StatusModel.Check(f, t, port, protocol, "auth-expired", authType, exp,
                    because + "; the auth entry expired at " + exp, local.node(), by));
        }
        return json(new StatusModel.Check(f, t, port, protocol, "allowed", authType, exp,
                because + "; authenticated until " + exp, local.node(), by));
    }

    /** An endpoint by "namespace/name", a unique "name", or an identity number with one endpoint. */
    private static Endpoint resolve(String ref, List<Endpoint> endpoints) {
        if (ref.chars().allMatch(Character::isDigit)) {
            long id = identity(ref);
            List<Endpoint> m = endpoints.stream().filter(e -> e.identity() == id).toList();
            if (m.isEmpty()) {
                throw new IllegalArgumentException("no endpoint has identity " + id);
            }
            return m.getFirst(); // endpoints of one identity share its policy; the node decides only where it is enforced
        }
        List<Endpoint> m = endpoints.stream().filter(e -> e.id().equals(ref) || e.name().equals(ref)).toList();
        if (m.isEmpty()) {
            throw new IllegalArgumentException("no endpoint named '" + ref + "' (give namespace/name, a name, or an identity)");
        }
        if (m.size() > 1 && m.stream().noneMatch(e -> e.id().equals(ref))) {
            throw new IllegalArgumentException("'" + ref + "' names several endpoints: "
                    + m.stream().map(Endpoint::id).toList() + "; give namespace/name");
        }
        return m.stream().filter(e -> e.id().equals(ref)).findFirst().orElse(m.getFirst());
    }

    private static String version() {
        String v = AgentStatusApi.class.getPackage().getImplementationVersion();
        return v == null ? "dev" : v;
    }
}
