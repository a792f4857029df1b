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

/** {@code meshauth check}: would this traffic pass, and why. */
@Command(name = "check", mixinStandardHelpOptions = true,
        description = "Would traffic from one endpoint (or identity) to another pass, and why: the policy verdict, the"
                + " authentication it requires, and the state and expiry of the auth entry. Ask the agent of the node"
                + " that enforces the pair (for an ingress rule: the destination's node).",
        footer = {"", "Verdicts: allowed, denied-by-policy, auth-required-missing, auth-expired, not-enforced (a pod to"
                + " itself: its loopback never meets the datapath).",
            "Only a new connection is judged: replies and established traffic of an allowed connection pass.",
            "Exit codes: 0 allowed or not enforced, 1 not allowed (or the agent cannot answer; the message says why),"
                + " 2 usage."})
public final class CheckCommand implements Callable<Integer> {
    @Spec
    CommandSpec spec;

    @Mixin
    AgentSocket agent;

    @Option(names = "--from", required = true, paramLabel = "ENDPOINT|IDENTITY",
            description = "Source: namespace/name, a unique name, or an identity number.")
    String from;

    @Option(names = "--to", required = true, paramLabel = "ENDPOINT|IDENTITY", description = "Destination, likewise.")
    String to;

    @Option(names = "--port", paramLabel = "P", description = "Destination port, or the ICMP type with ICMP and ICMPv6"
            + " (0 or absent: only rules without ports match).")
    Integer port;

    /** The protocols {@code --protocol} takes (ANY: a protocol no rule names, e.g. a raw IP protocol). */
    enum CheckProtocol {
        TCP, UDP, SCTP, ICMP, ICMPV6, ANY
    }

    @Option(names = "--protocol", paramLabel = "PROTOCOL", defaultValue = "TCP", description = "TCP, UDP, SCTP, ICMP,"
            + " ICMPv6, or ANY (an IP protocol no rule names, such as 253: only rules without ports match)."
            + " Default: ${DEFAULT-VALUE}.")
    CheckProtocol protocol;

    @Mixin
    OutputOption output;

    @Override
    public Integer call() throws StatusClient.AgentException {
        Map<String, Object> q = new LinkedHashMap<>();
        q.put("from", from);
        q.put("to", to);
        q.put("port", port);
        q.put("protocol", protocol.name());
        q.put("output", output.param());
        return agent.client().print(StatusClient.query("/v1/check", q), spec.commandLine().getOut(),
                spec.commandLine().getErr());
    }
}
