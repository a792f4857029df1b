package dev.meshauth.agent;

import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.TreeSet;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;

/** The agent's packages depend one way: no cycle (imports and qualified names both count). */
class PackageCyclesTest {
    private static final Pattern REF = Pattern.compile("dev\\.meshauth\\.agent\\.(\\w+)\\.[A-Z]");

    @Test
    void theAgentsPackagesFormNoCycle() throws IOException {
        Path root = Path.of("src/main/java/dev/meshauth/agent");
        Map<String, Set<String>> deps = new HashMap<>();
        try (var files = Files.walk(root)) {
            for (Path f : files.filter(p -> p.toString().endsWith(".java")).toList()) {
                String pkg = root.relativize(f.getParent()).toString().replace('/', '.');
                String top = pkg.contains(".") ? pkg.substring(0, pkg.indexOf('.')) : pkg;
                Matcher m = REF.matcher(Files.readString(f));
                while (m.find()) {
                    if (!m.group(1).equals(top)) {
                        deps.computeIfAbsent(top, k -> new TreeSet<>()).add(m.group(1));
                    }
                }
            }
        }
        assertThat(deps).as("the scan found the wiring").containsKey("node");
        List<String> cycles = new ArrayList<>();
        for (String start : deps.keySet()) {
            reach(start, start, deps, new HashSet<>(), new ArrayList<>(List.of(start)), cycles);
        }
        assertThat(cycles).isEmpty();
    }

    private static void reach(String start, String at, Map<String, Set<String>> deps, Set<String> seen, List<String> path,
            List<String> cycles) {
        for (String next : deps.getOrDefault(at, Set.of())) {
            if (next.equals(start)) {
                cycles.add(String.join(" -> ", path) + " -> " + start);
            } else if (seen.add(next)) {
                path.add(next);
                reach(start, next, deps, seen, path, cycles);
                path.removeLast();
            }
        }
    }
}
