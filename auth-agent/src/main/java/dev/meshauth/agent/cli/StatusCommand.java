package dev.meshauth.agent.cli;

import dev.meshauth.agent.status.StatusClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.util.LinkedHashMap;
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
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("verbose", verbose);
        q.put("output", output.param());
        return agent.client().print(StatusClient.query("/v1/status", q), spec.commandLine().getOut(),
                spec.commandLine().getErr());
    }
}
