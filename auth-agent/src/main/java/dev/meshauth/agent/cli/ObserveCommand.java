package dev.meshauth.agent.cli;

import dev.meshauth.agent.status.StatusClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

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
        q.put("output", output.name());
        if (follow) {
            q.put("follow", true);
        }
        return agent.client().print(StatusClient.query("/v1/events", q), spec.commandLine().getOut(),
                spec.commandLine().getErr());
    }
}
