package dev.meshauth.agent.cli;

import dev.meshauth.agent.node.source.SourceFiles;
import dev.meshauth.agent.status.TextTable;
import com.fasterxml.jackson.databind.ObjectMapper;
import com.fasterxml.jackson.databind.SerializationFeature;
import dev.meshauth.policy.PolicyException;
import dev.meshauth.policy.endpoint.EndpointsFile;
import dev.meshauth.policy.endpoint.IdentityAllocator;
import dev.meshauth.policy.eval.Explanation;
import dev.meshauth.policy.eval.PolicyEngine;
import dev.meshauth.policy.model.AuthType;
import dev.meshauth.policy.model.Direction;
import dev.meshauth.policy.model.Policy;
import dev.meshauth.policy.yaml.PolicyParser;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Parameters;
import picocli.CommandLine.Spec;

import java.io.IOException;
import java.io.PrintWriter;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.Locale;
import java.util.Optional;

/** {@code meshauth policy check|explain}. */
@Command(name = "policy", mixinStandardHelpOptions = true,
        description = "CiliumNetworkPolicy with authentication.mode: validate, and explain what needs authentication.")
public final class PolicyCommand implements Runnable {
    @Spec
    CommandSpec spec;

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** Loaded policies with their warnings. */
    record Loaded(List<Policy> policies, List<String> warnings, int files) {
    }

    static Loaded load(List<Path> paths) throws IOException, PolicyException {
        List<Path> files = SourceFiles.expand(paths);
        List<Policy> policies = new ArrayList<>();
        List<String> warnings = new ArrayList<>();
        List<PolicyException.Problem> problems = new ArrayList<>();
        for (Path f : files) {
            try {
                PolicyParser.Result r = PolicyParser.parse(f.toString(), SourceFiles.read(f));
                policies.addAll(r.policies());
                warnings.addAll(r.warnings());
            } catch (PolicyException e) {
                problems.addAll(e.problems());
            }
        }
        if (!problems.isEmpty()) {
            throw new PolicyException(problems);
        }
        return new Loaded(policies, warnings, files.size());
    }

    /** {@code meshauth policy check}. */
    @Command(name = "check", mixinStandardHelpOptions = true,
            description = "Validate policy files (or directories of them); print every problem as file:line:column.")
    int check(@Parameters(paramLabel = "FILE", arity = "1..*") List<Path> files) throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        try {
            Loaded l = load(files);
            l.warnings().forEach(w -> err.println("warning: " + w));
            out.println("OK: " + l.policies().size() + " policies in " + l.files() + " files");
            return ExitCodes.OK;
        } catch (PolicyException e) {
            e.problems().forEach(p -> err.println(p));
            err.println(e.problems().size() + " problem(s); nothing was applied");
            return ExitCodes.FAILURE;
        } finally {
            out.flush();
            err.flush();
        }
    }

    /** One JSON row of explain. */
    record Row(String from, String to, String direction, int port, String protocol, String authType, String policy) {
    }

    /** {@code meshauth policy explain}. */
    @Command(name = "explain", mixinStandardHelpOptions = true,
            description = "For every ordered pair of endpoints, the ports and protocols on which traffic requires"
                    + " authentication, and which rule says so.")
    int explain(@Option(names = "--policies", paramLabel = "PATH", arity = "1..*", required = true) List<Path> policies,
            @Option(names = "--endpoints", paramLabel = "FILE", required = true) Path endpoints,
            @Option(names = {"-o", "--output"}, defaultValue = "table", description = "table or json") String output,
            @Option(names = "--all", description = "Table only: also show allowed and denied traffic.") boolean all)
            throws IOException {
        PrintWriter out = spec.commandLine().getOut();
        PrintWriter err = spec.commandLine().getErr();
        if (!output.equals("table") && !output.equals("json")) {
            throw new IllegalArgumentException("--output must be table or json, got '" + output + "'");
        }
        try {
            Loaded l = load(policies);
            EndpointsFile.Contents c = EndpointsFile.parse(endpoints.toString(), SourceFiles.read("endpoints file", endpoints),
                    new IdentityAllocator(Optional.empty()));
            List<Explanation> rows = PolicyEngine.evaluate(l.policies(), c.endpoints()).explain(c.endpoints());
            List<Explanation> auth = rows.stream().filter(x -> x.authType() != AuthType.DISABLED).toList();
            if (output.equals("json")) {
                List<Row> json = auth.stream().map(x -> new Row(x.from(), x.to(),
                        x.direction().name().toLowerCase(Locale.ROOT), x.port(), x.protocol(), x.authType().toString(),
                        x.policy())).toList();
                out.println(new ObjectMapper().enable(SerializationFeature.INDENT_OUTPUT).writeValueAsString(json));
            } else {
                List<List<String>> table = new ArrayList<>();
                table.add(List.of("FROM", "TO", "DIRECTION", "PORT", "PROTOCOL", "VERDICT", "AUTH", "POLICY"));
                for (Explanation x : all ? rows : auth) {
                    table.add(List.of(x.from(), x.to(), x.direction() == Direction.INGRESS ? "ingress" : "egress",
                            x.port() == 0 ? "*" : Integer.toString(x.port()), x.protocol(), x.verdict(),
                            x.authType().toString(), x.policy()));
                }
                if (table.size() == 1) {
                    err.println("No traffic between these endpoints requires authentication.");
                } else {
                    out.print(TextTable.render(table));
                }
            }
            return ExitCodes.OK;
        } catch (PolicyException e) {
            e.problems().forEach(p -> err.println(p));
            return ExitCodes.FAILURE;
        } finally {
            out.flush();
            err.flush();
        }
    }
}
