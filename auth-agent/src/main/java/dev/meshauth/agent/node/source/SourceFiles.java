package dev.meshauth.agent.node.source;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.List;
import java.util.stream.Stream;

/**
 * The files a source reads, named in errors. The policy files {@code --policies} names: a file as given, a directory's {@code *.yaml} and
 * {@code *.yml} regular files in name order (not its subdirectories, as {@code kubectl apply -f DIR}
 * without {@code -R}; a Kubernetes ConfigMap volume's {@code ..data} links resolve to their files).
 */
public final class SourceFiles {
    private SourceFiles() {
    }

    /**
     * The files, in order.
     *
     * @throws IOException naming the path: one that does not exist, or a directory that cannot be listed
     */
    public static List<Path> expand(List<Path> paths) throws IOException {
        List<Path> out = new ArrayList<>();
        for (Path p : paths) {
            if (Files.isDirectory(p)) {
                try (Stream<Path> s = Files.list(p)) {
                    s.filter(f -> f.getFileName().toString().endsWith(".yaml") || f.getFileName().toString().endsWith(".yml"))
                            .filter(Files::isRegularFile).sorted().forEach(out::add);
                } catch (IOException e) {
                    throw new IOException("listing the policy directory " + p + " failed: " + e.getMessage(), e);
                }
            } else if (Files.exists(p)) {
                out.add(p);
            } else {
                throw new NoSuchFileException(p.toString(), null, "no such policy file or directory");
            }
        }
        return out;
    }

    /** A policy file's text; a failure names the file. */
    public static String read(Path file) throws IOException {
        return read("policy file", file);
    }

    /** The text of {@code file}, {@code what} it is ("endpoints file"); a failure names both. */
    public static String read(String what, Path file) throws IOException {
        try {
            return Files.readString(file);
        } catch (IOException e) {
            String why = e instanceof NoSuchFileException ? "no such file" : e.getMessage() == null ? e.toString() : e.getMessage();
            throw new IOException("reading the " + what + " " + file + " failed: " + why, e);
        }
    }
}
