package dev.meshauth.agent.cli;

import picocli.CommandLine.Option;

import java.io.PrintWriter;
import java.util.function.Supplier;

/** {@code -o table|json|yaml}, and printing a value in the chosen form (a mixin of the agent-facing commands). */
final class OutputOption {
    @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
            description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
    OutputFormat format;

    /** The {@code output} query parameter: the agent prints in this format. */
    String param() {
        return format.name();
    }

    /** Prints {@code value} as JSON or YAML, or the table {@code table} renders; flushes. */
    void print(PrintWriter out, Object value, Supplier<String> table) {
        switch (format) {
            case json -> out.println(OutputFormat.json(value));
            case yaml -> out.print(OutputFormat.yaml(value));
            case table -> out.print(table.get());
        }
        out.flush();
    }
}
