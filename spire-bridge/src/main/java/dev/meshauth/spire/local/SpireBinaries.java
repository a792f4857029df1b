package dev.meshauth.spire.local;

import java.io.BufferedReader;
import java.io.IOException;
import java.io.InputStreamReader;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayDeque;
import java.util.Deque;
import java.util.List;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.function.Consumer;

/**
 * The real {@code spire-server} and {@code spire-agent} binaries: from {@code $MESHAUTH_SPIRE_BIN}, or
 * the version pinned in the repository's {@code interop/spire/VERSION} as built by
 * {@code interop/spire/build.sh} into {@code .cache/spire/<version>/bin} (building them first when asked).
 *
 * @param directory where both binaries are
 * @param version   what {@code spire-server --version} prints
 */
public record SpireBinaries(Path directory, String version) {
    /** Environment variable naming a directory with both binaries; wins over the repository's cache. */
    public static final String ENV = "MESHAUTH_SPIRE_BIN";
    private static final Path SCRIPT = Path.of("interop/spire/build.sh");
    private static final Path VERSION = Path.of("interop/spire/VERSION");

    /** The server binary. */
    public Path server() {
        return directory.resolve("spire-server");
    }

    /** The agent binary. */
    public Path agent() {
        return directory.resolve("spire-agent");
    }

    /**
     * The binaries for the repository at {@code home}: {@code $MESHAUTH_SPIRE_BIN} if set, else the cached
     * build of the pinned version; when that is missing and {@code build} is true, runs the build script
     * (minutes, the first time) and reports its progress lines to {@code progress}.
     *
     * @throws LocalSpireException if they are not there and cannot be built, saying what to run
     */
    public static SpireBinaries find(Path home, boolean build, Consumer<String> progress) throws LocalSpireException {
        String fromEnv = System.getenv(ENV);
        if (fromEnv != null && !fromEnv.isBlank()) {
            return at(Path.of(fromEnv), "$" + ENV);
        }
        Optional<Path> cached = cachedDirectory(home);
        if (cached.isPresent()) {
            return at(cached.get(), "the build cache");
        }
        if (!build) {
            throw new LocalSpireException("SPIRE " + pinnedVersion(home) + " is not built yet: run " + home.resolve(SCRIPT)
                    + " (needs Go), or set " + ENV + " to a directory with spire-server and spire-agent");
        }
        return at(runBuild(home, progress), "interop/spire/build.sh");
    }

    /** The version pinned for the repository at {@code home} (interop/spire/VERSION). */
    public static String pinnedVersion(Path home) throws LocalSpireException {
        try {
            return Files.readString(home.resolve(VERSION)).strip();
        } catch (IOException e) {
            throw new LocalSpireException("cannot read the pinned SPIRE version at " + home.resolve(VERSION)
                    + ": is " + home + " a meshauth checkout?", e);
        }
    }

    /** The cached build of the pinned version, if it is complete. */
    public static Optional<Path> cachedDirectory(Path home) throws LocalSpireException {
        String cacheRoot = System.getenv("MESHAUTH_SPIRE_CACHE");
        Path base = cacheRoot != null && !cacheRoot.isBlank() ? Path.of(cacheRoot) : home.resolve(".cache/spire");
        Path dir = base.resolve(pinnedVersion(home));
        return Files.isRegularFile(dir.resolve(".built")) && Files.isExecutable(dir.resolve("bin/spire-server"))
                && Files.isExecutable(dir.resolve("bin/spire-agent")) ? Optional.of(dir.resolve("bin")) : Optional.empty();
    }

    /** True if a Go toolchain is there to build SPIRE with. */
    public static boolean goAvailable() {
        return goBinary().isPresent();
    }

    /**
     * The repository that {@code start} is in or under: the nearest ancestor holding
     * {@code interop/spire/VERSION}.
     */
    public static Optional<Path> repository(Path start) {
        for (Path p = start.toAbsolutePath().normalize(); p != null; p = p.getParent()) {
            if (Files.isRegularFile(p.resolve(VERSION))) {
                return Optional.of(p);
            }
        }
        return Optional.empty();
    }

    private static Optional<Path> goBinary() {
        String path = System.getenv().getOrDefault("PATH", "");
        for (String dir : (path + ":/usr/local/go/bin").split(":")) {
            Path go = Path.of(dir.isEmpty() ? "." : dir, "go");
            if (Files.isExecutable(go)) {
                return Optional.of(go);
            }
        }
        return Optional.empty();
    }

    private static SpireBinaries at(Path dir, String from) throws LocalSpireException {
        for (String b : List.of("spire-server", "spire-agent")) {
            if (!Files.isExecutable(dir.resolve(b))) {
                throw new LocalSpireException("no executable " + b + " in " + dir + " (from " + from + ")");
            }
        }
        return new SpireBinaries(dir, versionOf(dir.resolve("spire-server")));
    }

    private static String versionOf(Path server) throws LocalSpireException {
        try {
            Process p = new ProcessBuilder(server.toString(), "--version").redirectErrorStream(true).start();
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            if (!p.waitFor(30, TimeUnit.SECONDS) || p.exitValue() != 0) {
                throw new LocalSpireException(server + " --version failed: " + out);
            }
            return out;
        } catch (IOException e) {
            throw new LocalSpireException("cannot run " + server + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalSpireException("interrupted while asking " + server + " for its version", e);
        }
    }

    private static Path runBuild(Path home, Consumer<String> progress) throws LocalSpireException {
        Path script = home.resolve(SCRIPT);
        if (goBinary().isEmpty()) {
            throw new LocalSpireException("SPIRE " + pinnedVersion(home) + " is not built and there is no Go toolchain to"
                    + " build it with (looked on PATH and in /usr/local/go/bin): install Go 1.26+, then run " + script);
        }
        ProcessBuilder pb = new ProcessBuilder(script.toString());
        pb.environment().merge("PATH", goBinary().get().getParent().toString(), (a, b) -> a + ":" + b);
        Deque<String> lastLines = new ArrayDeque<>();
        try {
            Process p = pb.start();
            Thread errors = Thread.ofVirtual().start(() -> {
                try (BufferedReader r = new BufferedReader(new InputStreamReader(p.getErrorStream(), StandardCharsets.UTF_8))) {
                    for (String line; (line = r.readLine()) != null; ) {
                        synchronized (lastLines) {
                            lastLines.addLast(line);
                            if (lastLines.size() > 80) {
                                lastLines.removeFirst();
                            }
                        }
                        progress.accept(line);
                    }
                } catch (IOException e) {
                    // the script ended; its exit code tells the rest
                }
            });
            String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8).strip();
            int rc = p.waitFor();
            errors.join();
            if (rc != 0) {
                synchronized (lastLines) {
                    throw new LocalSpireException(script + " failed (exit " + rc + "):\n" + String.join("\n", lastLines));
                }
            }
            return Path.of(out.lines().reduce((a, b) -> b).orElse(""));
        } catch (IOException e) {
            throw new LocalSpireException("cannot run " + script + ": " + e.getMessage(), e);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            throw new LocalSpireException("interrupted while building SPIRE with " + script, e);
        }
    }
}
