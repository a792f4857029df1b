package dev.meshauth.spire.testing;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.Comparator;

/** Removes a fixture's directory tree (sockets, data, logs), deepest first. */
public final class TempDirs {
    private TempDirs() {
    }

    /** Deletes {@code dir} and everything under it; nothing if it is gone already. */
    public static void delete(Path dir) throws IOException {
        if (dir == null || !Files.exists(dir)) {
            return;
        }
        try (var walk = Files.walk(dir)) {
            walk.sorted(Comparator.reverseOrder()).forEach(p -> p.toFile().delete());
        }
    }
}
