package dev.meshauth.agent.cli;

import com.fasterxml.jackson.core.type.TypeReference;
import dev.meshauth.agent.status.StatusClient;
import dev.meshauth.agent.status.StatusModel;
import picocli.CommandLine.Command;
import picocli.CommandLine.Mixin;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Spec;

import java.time.Clock;
import java.time.Instant;
import java.util.ArrayList;
import java.util.List;
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
        List<StatusModel.Cert> certs = agent.client().get("/v1/certs", new TypeReference<>() { });
        output.print(spec.commandLine().getOut(), certs, () -> table(certs));
        return ExitCodes.OK;
    }

    private String table(List<StatusModel.Cert> certs) {
        if (certs.isEmpty()) {
            spec.commandLine().getErr().println("No SVIDs held.");
            spec.commandLine().getErr().flush();
            return "";
        }
        Instant now = Clock.systemUTC().instant();
        List<List<String>> rows = new ArrayList<>();
        rows.add(List.of("IDENTITY", "SPIFFE ID", "SERIAL", "NOT BEFORE", "NOT AFTER", "ROTATION", "ISSUER"));
        for (StatusModel.Cert c : certs) {
            rows.add(List.of(Long.toString(c.identity()), c.spiffeId(), c.serial(), c.notBefore().toString(),
                    c.notAfter().toString(), rotation(now, c.rotatesAt()), c.issuer()));
        }
        return TextTable.render(rows);
    }

    /** SPIRE rotates at half-life: "in 29m", or "overdue 3m" when it has not. */
    static String rotation(Instant now, Instant at) {
        java.time.Duration d = java.time.Duration.between(now, at);
        return d.isNegative() ? "overdue " + StatusCommand.human(d.abs()) : "in " + StatusCommand.human(d);
    }
}
