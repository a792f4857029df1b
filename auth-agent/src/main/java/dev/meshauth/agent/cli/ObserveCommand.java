package dev.meshauth.agent.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.meshauth.agent.status.Json;
import dev.meshauth.agent.status.StatusClient;
import dev.meshauth.agent.status.StatusModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.Callable;

/** {@code meshauth observe}: auth events, one line each, like {@code hubble observe}. */
@Command(name = "observe", mixinStandardHelpOptions = true,
        description = "Auth events of this node, one line each: handshakes (with reason and duration), auth-required"
                + " drops, entries deleted (with reason), SVID rotations. Recent ones, or live with --follow.",
        footer = {"", "Exit codes: 0 done (or the agent ended the stream), 1 the agent cannot be reached."})
public final class ObserveCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    AgentSocket agent;

    @Option(names = {"-f", "--follow"}, description = "Keep printing events as they happen (after the recent ones).")
    boolean follow;

    @Option(names = "--identity", paramLabel = "N", description = "Only events involving identity N.")
    Long identity;

    @Option(names = "--type", paramLabel = "TYPE", split = ",",
            description = "Only these kinds: handshake, drop, gc, rotation (comma-separated).")
    List<String> types;

    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            description = "table: one line per event; json: one JSON object per line; yaml: one document per event.")
    OutputFormat output;

    @Override
    public Integer call() throws StatusClient.AgentException {
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("identity", identity);
        q.put("type", types == null ? null : String.join(",", types));
        PrintWriter out = spec.commandLine().getOut();
        if (follow) {
            q.put("follow", true);
            agent.client().stream(StatusClient.query("/v1/events", q), l -> {
                try {
                    print(out, Json.MAPPER.readValue(l, StatusModel.Event.class));
                } catch (IOException e) {
                    throw new IllegalStateException("the agent sent an event that is not JSON: " + l, e);
                }
                out.flush();
            });
        } else {
            List<StatusModel.Event> events = agent.client().get(StatusClient.query("/v1/events", q), new TypeReference<>() { });
            events.forEach(e -> print(out, e));
            out.flush();
        }
        return ExitCodes.OK;
    }

    private void print(PrintWriter out, StatusModel.Event e) {
        switch (output) {
            case table -> out.println(line(e));
            case json -> out.println(OutputFormat.jsonLine(e));
            case yaml -> out.print("---\n" + OutputFormat.yaml(e));
        }
    }

    /** One line per event, fields in a fixed order, absent ones left out. */
    static String line(StatusModel.Event e) {
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
