package dev.meshauth.agent.cli;

import dev.meshauth.agent.status.TextTable;
import dev.meshauth.bpf.auth.AuthEntry;

import java.time.Instant;
import java.time.temporal.ChronoUnit;
import java.util.ArrayList;
import java.util.List;

/** The table {@code meshauth bpf auth list} prints: Cilium's columns, honest header names. */
final class AuthEntryTable {
    static final List<String> HEADER = List.of("LOCAL IDENTITY", "REMOTE IDENTITY", "REMOTE NODE ID", "AUTH TYPE",
            "EXPIRATION");

    private AuthEntryTable() {
    }

    static String render(List<AuthEntry> entries, Instant now) {
        List<List<String>> rows = new ArrayList<>();
        rows.add(HEADER);
        for (AuthEntry e : entries) {
            Instant exp = e.info().expiresAt();
            String expiration = exp.truncatedTo(ChronoUnit.SECONDS) + (e.info().isValidAt(now) ? "" : " (expired)");
            rows.add(List.of(Long.toString(e.key().localIdentity()), Long.toString(e.key().remoteIdentity()),
                    Integer.toString(e.key().remoteNodeId()), e.key().authType().toString(), expiration));
        }
        return TextTable.render(rows);
    }
}
