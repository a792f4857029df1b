package dev.meshauth.policy.endpoint;

import dev.meshauth.policy.io.AtomicFiles;

import java.io.IOException;
import java.io.UncheckedIOException;
import java.nio.channels.FileChannel;
import java.nio.channels.FileLock;
import java.nio.file.Files;
import java.nio.file.Path;
import java.nio.file.StandardOpenOption;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.TreeMap;
import java.util.concurrent.ConcurrentHashMap;

/**
 * Standalone identity allocation: one stable numeric identity per label set, from 256 up, the same
 * across restarts because the table is kept in a small file ({@code <id> <k=v,k=v...>} per line).
 * In Kubernetes, Cilium allocates identities and we read its CiliumIdentity objects instead.
 *
 * <p>The file is shared by the operator and the agents of one host, each in its own process: a new
 * allocation takes an exclusive lock ({@code <file>.lock}, a {@link FileChannel#lock()} across processes and a
 * monitor per file within this one), re-reads the file, allocates after everything there, and replaces
 * the file atomically through a temporary file of its own, so two writers never give one id to two label
 * sets and a reader never sees half a file.
 */
public final class IdentityAllocator {
    private static final Map<Path, Object> LOCAL_LOCKS = new ConcurrentHashMap<>();

    private final Optional<Path> file;
    private final Map<String, Long> byLabels = new HashMap<>(); // @GuardedBy("this")
    private long next = ReservedIdentity.MIN_ALLOCATED; // @GuardedBy("this")

    /** An allocator persisting to {@code file} if present (loaded now). */
    public IdentityAllocator(Optional<Path> file) throws IOException {
        this.file = file.map(f -> f.toAbsolutePath().normalize());
        if (this.file.isPresent()) {
            load(this.file.get());
        }
    }

    private synchronized void load(Path f) throws IOException {
        if (!Files.exists(f)) {
            return;
        }
        for (String line : Files.readAllLines(f)) {
            if (line.isBlank() || line.startsWith("#")) {
                continue;
            }
            int sp = line.indexOf(' ');
            long id = Long.parseLong(line.substring(0, sp));
            byLabels.put(line.substring(sp + 1), id);
            next = Math.max(next, id + 1);
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
            return id; // ids never change once in the file
        }
        return underFileLock(() -> {
            Long theirs = byLabels.get(key); // another process may have allocated it meanwhile
            if (theirs != null) {
                return theirs;
            }
            long allocated = next++;
            byLabels.put(key, allocated);
            return allocated;
        });
    }

    /** Records an explicitly chosen identity for {@code labels} so it is not handed out again. */
    public synchronized void reserve(Map<String, String> labels, long id) {
        underFileLock(() -> {
            byLabels.put(canonical(labels), id);
            next = Math.max(next, id + 1);
            return id;
        });
    }

    /** Re-reads the file, applies {@code change}, and writes the file back, all under the exclusive lock. */
    private long underFileLock(java.util.function.LongSupplier change) {
        if (file.isEmpty()) {
            return change.getAsLong();
        }
        Path f = file.get();
        synchronized (LOCAL_LOCKS.computeIfAbsent(f, k -> new Object())) {
            try {
                Files.createDirectories(f.getParent());
                try (FileChannel lock = FileChannel.open(f.resolveSibling(f.getFileName() + ".lock"),
                        StandardOpenOption.CREATE, StandardOpenOption.WRITE); FileLock held = lock.lock()) {
                    load(f);
                    long result = change.getAsLong();
                    write(f);
                    return result;
                }
            } catch (IOException e) {
                throw new UncheckedIOException("cannot update the identities file " + f + ": " + e.getMessage()
                        + " (is its directory writable?)", e);
            }
        }
    }

    private void write(Path f) throws IOException {
        StringBuilder sb = new StringBuilder("# meshauth standalone identities: <id> <labels>\n");
        new TreeMap<>(byLabels).forEach((k, v) -> sb.append(v).append(' ').append(k).append('\n'));
        AtomicFiles.replace(f, sb);
    }
}
