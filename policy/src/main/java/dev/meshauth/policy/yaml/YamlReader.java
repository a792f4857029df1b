package dev.meshauth.policy.yaml;

import dev.meshauth.policy.PolicyException;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.Mark;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;

import java.io.StringReader;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Typed reading of a YAML node tree that keeps every value's file, line and column, and collects
 * problems (unknown keys with a "did you mean", wrong types) instead of stopping at the first.
 */
public final class YamlReader {
    private final String file;
    private final List<PolicyException.Problem> problems = new ArrayList<>();
    private final Map<Node, Node> keys = new java.util.IdentityHashMap<>();

    /** A reader for nodes of {@code file}. */
    public YamlReader(String file) {
        this.file = file;
    }

    /**
     * Parses every document of {@code text}.
     *
     * @throws PolicyException if the YAML itself is malformed
     */
    public List<Node> documents(String text) throws PolicyException {
        LoaderOptions options = new LoaderOptions();
        options.setAllowDuplicateKeys(false);
        options.setMaxAliasesForCollections(10);
        List<Node> out = new ArrayList<>();
        try {
            for (Node n : new Yaml(options).composeAll(new StringReader(text))) {
                if (n != null) {
                    out.add(n);
                }
            }
        } catch (MarkedYAMLException e) {
            Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            throw new PolicyException(List.of(new PolicyException.Problem(file, m == null ? 0 : m.getLine() + 1,
                    m == null ? 0 : m.getColumn() + 1, "", "malformed YAML: " + e.getProblem())));
        } catch (RuntimeException e) {
            throw new PolicyException(List.of(new PolicyException.Problem(file, 0, 0, "", "malformed YAML: " + e.getMessage())));
        }
        return out;
    }

    /** Records a problem at {@code node}. */
    public void problem(Node node, String path, String message) {
        Mark m = node == null ? null : node.getStartMark();
        problems.add(new PolicyException.Problem(file, m == null ? 0 : m.getLine() + 1, m == null ? 0 : m.getColumn() + 1,
                path, message));
    }

    /** Problems so far. */
    public List<PolicyException.Problem> problems() {
        return problems;
    }

    /** Throws if any problem was recorded. */
    public void throwIfProblems() throws PolicyException {
        if (!problems.isEmpty()) {
            throw new PolicyException(problems);
        }
    }

    /** The file name. */
    public String file() {
        return file;
    }

    /**
     * A mapping's entries by key, reporting keys outside {@code allowed} (with a suggestion); empty if
     * the node is not a mapping (reported).
     */
    public Map<String, Node> mapping(Node node, String path, Set<String> allowed) {
        Map<String, Node> out = new LinkedHashMap<>();
        if (!(node instanceof MappingNode m)) {
            problem(node, path, "expected a mapping, found " + kind(node));
            return out;
        }
        for (NodeTuple t : m.getValue()) {
            if (!(t.getKeyNode() instanceof ScalarNode k)) {
                problem(t.getKeyNode(), path, "keys must be strings");
                continue;
            }
            String key = k.getValue();
            if (allowed != null && !allowed.contains(key)) {
                String hint = Suggest.closest(key, allowed).map(s -> " (did you mean '" + s + "'?)").orElse("");
                problem(k, path, "unknown field '" + key + "'" + hint);
                continue;
            }
            if (out.containsKey(key)) {
                problem(k, path, "'" + key + "' is given twice (first on line " + keyLine(out.get(key)) + "); kubectl refuses"
                        + " duplicate keys too");
                continue;
            }
            out.put(key, t.getValueNode());
            keys.put(t.getValueNode(), k);
        }
        return out;
    }

    /** The 1-based line where {@code value}'s key is written (its own line if it is no mapping value). */
    public int keyLine(Node value) {
        return keys.getOrDefault(value, value).getStartMark().getLine() + 1;
    }

    /** A mapping of string to string (labels). */
    public Map<String, String> stringMap(Node node, String path) {
        Map<String, String> out = new LinkedHashMap<>();
        for (Map.Entry<String, Node> e : mapping(node, path, null).entrySet()) {
            scalar(e.getValue(), path + "." + e.getKey()).ifPresent(v -> out.put(e.getKey(), v));
        }
        return out;
    }

    /** A sequence's items; empty if not a sequence (reported). */
    public List<Node> sequence(Node node, String path) {
        if (node instanceof SequenceNode s) {
            return s.getValue();
        }
        problem(node, path, "expected a list, found " + kind(node));
        return List.of();
    }

    /** A scalar's text; empty if not a scalar (reported). */
    public Optional<String> scalar(Node node, String path) {
        if (node instanceof ScalarNode s) {
            return Optional.of(s.getValue());
        }
        problem(node, path, "expected a value, found " + kind(node));
        return Optional.empty();
    }

    /** An integer scalar within bounds; empty (reported) otherwise. */
    public Optional<Long> integer(Node node, String path, long min, long max) {
        Optional<String> s = scalar(node, path);
        if (s.isEmpty()) {
            return Optional.empty();
        }
        try {
            long v = Long.parseLong(s.get().strip());
            if (v < min || v > max) {
                problem(node, path, "must be between " + min + " and " + max + ", got " + v);
                return Optional.empty();
            }
            return Optional.of(v);
        } catch (NumberFormatException e) {
            problem(node, path, "must be a number, got '" + s.get() + "'");
            return Optional.empty();
        }
    }

    private static String kind(Node n) {
        if (n instanceof MappingNode) {
            return "a mapping";
        }
        if (n instanceof SequenceNode) {
            return "a list";
        }
        return n == null ? "nothing" : "'" + ((ScalarNode) n).getValue() + "'";
    }
}
