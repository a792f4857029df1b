package dev.meshauth.agent.cli;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthEntry;
import dev.meshauth.bpf.auth.AuthMapLayout;
import dev.meshauth.bpf.auth.KernelAuthMap;
import picocli.CommandLine.Command;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Option;
import picocli.CommandLine.Spec;

import java.io.PrintWriter;
import java.nio.file.Path;
import java.time.Clock;
import java.util.Comparator;
import java.util.List;

/**
 * {@code meshauth bpf auth list|flush}: mirrors {@code cilium-dbg bpf auth list|flush}, on any map with
 * Cilium's {@code cilium_auth_map} layout, whoever wrote it.
 */
@Command(name = "auth", description = "The auth map: authenticated identity pairs and their expiry.",
        mixinStandardHelpOptions = true)
public final class AuthMapCommand implements Runnable {
    static final Comparator<AuthEntry> ORDER = Comparator
            .comparingLong((AuthEntry e) -> e.key().localIdentity())
            .thenComparingLong(e -> e.key().remoteIdentity())
            .thenComparingInt(e -> e.key().remoteNodeId())
            .thenComparingInt(e -> e.key().authType().code());

    @Spec
    CommandSpec spec;

    private final Clock clock;

    /** Uses the system clock (to mark expired entries). */
    public AuthMapCommand() {
        this(Clock.systemUTC());
    }

    AuthMapCommand(Clock clock) {
        this.clock = clock;
    }

    @Override
    public void run() {
        spec.commandLine().usage(spec.commandLine().getOut());
    }

    /** {@code meshauth bpf auth list}. */
    @Command(name = "list", aliases = "ls", mixinStandardHelpOptions = true,
            description = "List the entries of the auth map (read-only).")
    int list(@Option(names = "--map", paramLabel = "PATH", description = "Pin path of the auth map (default: ${DEFAULT-VALUE}).")
            Path map,
            @Option(names = {"-o", "--output"}, paramLabel = "FORMAT", defaultValue = "table",
                    description = "Output format: ${COMPLETION-CANDIDATES} (default: ${DEFAULT-VALUE}).")
            OutputFormat output,
            @Option(names = "--identity", paramLabel = "N", description = "Only entries whose local or remote identity is N.")
            Long identity) throws BpfException {
        Path path = map == null ? AuthMapLayout.DEFAULT_PIN_PATH : map;
        List<AuthEntry> entries;
        try (KernelAuthMap authMap = KernelAuthMap.openExisting(path, true)) {
            entries = authMap.entries().stream()
                    .filter(e -> identity == null || e.key().localIdentity() == identity || e.key().remoteIdentity() == identity)
                    .sorted(ORDER).toList();
        }
        PrintWriter out = spec.commandLine().getOut();
        switch (output) {
            case table -> {
                if (entries.isEmpty()) {
                    spec.commandLine().getErr().println("No entries found.");
                    spec.commandLine().getErr().flush();
                } else {
                    out.print(AuthEntryTable.render(entries, clock.instant()));
                }
            }
            case json -> out.println(AuthEntryJson.render(entries));
            case yaml -> out.print(OutputFormat.yaml(AuthEntryJson.rows(entries)));
        }
        out.flush();
        return ExitCodes.OK;
    }

    /** {@code meshauth bpf auth flush}. */
    @Command(name = "flush", mixinStandardHelpOptions = true,
            description = "Delete every entry of the auth map. Traffic that requires authentication is dropped until"
                    + " the pairs are authenticated again.")
    int flush(@Option(names = "--map", paramLabel = "PATH", description = "Pin path of the auth map.") Path map)
            throws BpfException {
        Path path = map == null ? AuthMapLayout.DEFAULT_PIN_PATH : map;
        int n;
        try (KernelAuthMap authMap = KernelAuthMap.openExisting(path, false)) {
            n = authMap.flush();
        }
        spec.commandLine().getOut().println("Flushed " + n + " entries");
        spec.commandLine().getOut().flush();
        return ExitCodes.OK;
    }
}
