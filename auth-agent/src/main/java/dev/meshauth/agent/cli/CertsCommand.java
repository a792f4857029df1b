package dev.meshauth.agent.cli;

import dev.meshauth.agent.status.StatusClient;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.util.Map;
import java.util.concurrent.Callable;

/** {@code meshauth certs}: the workload SVIDs the agent holds (like {@code istioctl ztunnel-config certificates}). */
@Command(name = "certs", mixinStandardHelpOptions = true,
        description = "The X509-SVIDs the agent holds for this node's identities: SPIFFE ID, serial, validity, rotation, issuer.",
        footer = {"", "Exit codes: 0 listed, 1 the agent cannot be reached."})
public final class CertsCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    AgentSocket agent;

    @Mixin
    OutputOption output;

    @Override
    public Integer call() throws StatusClient.AgentException {
        return agent.client().print(StatusClient.query("/v1/certs", Map.of("output", output.param())),
                spec.commandLine().getOut(), spec.commandLine().getErr());
    }
}
