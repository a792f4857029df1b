package dev.meshauth.policy.nodeid;

import dev.meshauth.policy.io.AtomicFiles;

import java.io.IOException;
import java.nio.charset.StandardCharsets;
import java.nio.file.Files;
import java.nio.file.NoSuchFileException;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.List;
import java.util.Map;

/**
 * Where node ids persist between restarts: a small text file, one line per fact
 * ({@code node NAME ID}, {@code next ID}, {@code freed ID NAME}, oldest freed first), written whole to a
 * unique temporary file and renamed over the old one, so a crash leaves the old file or the new one.
 * Keep it beside the pinned auth map's lifetime: on a tmpfs such as {@code /run}, both end at reboot.
 */
public final class NodeIdStore {
    private static final String HEADER = "# meshauth node ids: node NAME ID | next ID | freed ID NAME (oldest first)";

    private final Path file;

    /** At {@code file}. */
    public NodeIdStore(Path file) {
        this.file = file;
    }

    /** The stored state; empty state if the file does not exist. */
    public NodeIdAllocator.State load() throws IOException {
        List<String> lines;
        try {
            lines = Files.readAllLines(file, StandardCharsets.UTF_8);
        } catch (NoSuchFileException e) {
            return NodeIdAllocator.State.EMPTY;
        }
        Map<String, Integer> assigned = new HashMap<>();
        List<NodeIdAllocator.Freed> freed = new ArrayList<>();
        int next = 1;
        for (int i = 0; i < lines.size(); i++) {
            String line = lines.get(i).strip();
            if (line.isEmpty() || line.startsWith("#")) {
                continue;
            }
            String[] f = line.split(" ");
            try {
                switch (f[0]) {
                    case "node" -> assigned.put(field(f, 1, 3), id(f[2]));
                    case "next" -> next = Integer.parseInt(field(f, 1, 2));
                    case "freed" -> freed.add(new NodeIdAllocator.Freed(id(field(f, 1, 3)), f[2]));
                    default -> throw new IllegalArgumentException("unknown record '" + f[0] + "'");
                }
            } catch (IllegalArgumentException e) {
                throw new IOException("node id file " + file + " line " + (i + 1) + " is malformed (" + e.getMessage()
                        + "): fix it, or delete it to number the nodes afresh (then restart the agent with a flushed auth map)");
            }
        }
        return new NodeIdAllocator.State(assigned, next, freed);
    }

    private static String field(String[] f, int i, int length) {
        if (f.length != length) {
            throw new IllegalArgumentException("expected " + length + " fields, got " + f.length);
        }
        return f[i];
    }

    private static int id(String s) {
        int v = Integer.parseInt(s);
        if (v < 1 || v > NodeIdAllocator.MAX_ID) {
            throw new IllegalArgumentException("id " + v + " is outside 1.." + NodeIdAllocator.MAX_ID);
        }
        return v;
    }

    /** Writes {@code s} atomically. */
    public void save(NodeIdAllocator.State s) throws IOException {
        StringBuilder b = new StringBuilder(HEADER).append('\n');
        s.assigned().entrySet().stream().sorted(Map.Entry.comparingByValue())
                .forEach(e -> b.append("node ").append(e.getKey()).append(' ').append(e.getValue()).append('\n'));
        b.append("next ").append(s.next()).append('\n');
        s.freed().forEach(f -> b.append("freed ").append(f.id()).append(' ').append(f.node()).append('\n'));
        AtomicFiles.replace(file, b);
    }

    /** The file. */
    public Path file() {
        return file;
    }
}
