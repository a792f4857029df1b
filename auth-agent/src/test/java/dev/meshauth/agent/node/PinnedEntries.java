package dev.meshauth.agent.node;

import dev.meshauth.bpf.auth.AuthEntry;
import dev.meshauth.bpf.auth.KernelAuthMap;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.List;

/** What a pinned auth map holds, read by the test itself (read-only), as another process would see it. */
final class PinnedEntries {
    private PinnedEntries() {
    }

    /** The entries at {@code pin}; none while nothing is pinned there yet. */
    static List<AuthEntry> read(Path pin) {
        if (!Files.exists(pin)) {
            return List.of();
        }
        try (KernelAuthMap m = KernelAuthMap.openExisting(pin, true)) {
            return m.entries();
        } catch (Exception e) {
            throw new IllegalStateException("reading the pinned map " + pin + " failed", e);
        }
    }
}
