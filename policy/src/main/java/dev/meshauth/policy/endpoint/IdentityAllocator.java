package dev.meshauth.policy.endpoint;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.file.AtomicMoveNotSupportedException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardCopyOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;

/**
 * Standalone identity allocation: one stable numeric identity per label set, from 256 up, the same
 * across restarts because the table is kept in a small file ({@code <id> <k=v,k=v...>} per line).
 * In Kubernetes, Cilium allocates identities and we read its CiliumIdentity objects instead.
 */
public final class IdentityAllocator {
    private final Optional<Path> file;
    private final Map<String, Long> byLabels = new HashMap<>(); // @GuardedBy("this")
    private long next = ReservedIdentity.MIN_ALLOCATED; // @GuardedBy("this")

    /** An allocator persisting to {@code file} if present (loaded now). */
    public IdentityAllocator(Optional<Path> file) throws IOException {
        this.file = file;
        if (file.isPresent() && Files.exists(file.get())) {
            for (String line : Files.readAllLines(file.get())) {
                if (line.isBlank() || line.startsWith("#")) {
                    continue;
                }
                int sp = line.indexOf(' ');
                long id = Long.parseLong(line.substring(0, sp));
                byLabels.put(line.substring(sp + 1), id);
                next = Math.max(next, id + 1);
            }
        }
    }

    /** Canonical text of a label set: sorted k=v joined by commas. */
    public static String canonical(Map<String, String> labels) {
        List<String> parts = new ArrayList<>();
        new TreeMap<>(labels).forEach((k, v) -> parts.add(k + "=" + v));
        return String.join(",", parts);
    }

    /** The identity of {@code labels}, allocating (and persisting) a new one if needed. */
    public synchronized long identityOf(Map<String, String> labels) {
        String key = canonical(labels);
        Long id = byLabels.get(key);
        if (id != null) {
            return id;
        }
        long allocated = next++;
        byLabels.put(key, allocated);
        persist();
        return allocated;
    }

    /** Records an explicitly chosen identity for {@code labels} so it is not handed out again. */
    public synchronized void reserve(Map<String, String> labels, long id) {
        byLabels.put(canonical(labels), id);
        next = Math.max(next, id + 1);
        persist();
    }

    private void persist() {
        if (file.isEmpty()) {
            return;
        }
        StringBuilder sb = new StringBuilder("# meshauth standalone identities: <id> <labels>\n");
        new TreeMap<>(byLabels).forEach((k, v) -> sb.append(v).append(' ').append(k).append('\n'));
        try {
            Path f = file.get();
            Files.createDirectories(f.toAbsolutePath().getParent());
            Path tmp = f.resolveSibling(f.getFileName() + ".tmp");
            Files.writeString(tmp, sb);
            try {
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING, StandardCopyOption.ATOMIC_MOVE);
            } catch (AtomicMoveNotSupportedException e) {
                Files.move(tmp, f, StandardCopyOption.REPLACE_EXISTING);
            }
        } catch (IOException e) {
            throw new UncheckedIOException("cannot persist identities to " + file.get(), e);
        }
    }
}
