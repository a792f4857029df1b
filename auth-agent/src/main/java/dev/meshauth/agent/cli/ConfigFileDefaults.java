package dev.meshauth.agent.cli;

import dev.meshauth.policy.yaml.Suggest;
import org.yaml.snakeyaml.LoaderOptions;
import org.yaml.snakeyaml.Yaml;
import org.yaml.snakeyaml.error.MarkedYAMLException;
import org.yaml.snakeyaml.nodes.MappingNode;
import org.yaml.snakeyaml.nodes.Node;
import org.yaml.snakeyaml.nodes.NodeTuple;
import org.yaml.snakeyaml.nodes.ScalarNode;
import org.yaml.snakeyaml.nodes.SequenceNode;
import picocli.CommandLine;
import picocli.CommandLine.Model.ArgSpec;
import picocli.CommandLine.Model.CommandSpec;
import picocli.CommandLine.Model.OptionSpec;

import java.io.IOException;
import java.io.StringReader;
import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;
import java.util.TreeSet;

/**
 * A YAML config file whose keys are a command's long option names without the dashes
 * ({@code mesh-auth-queue-size: 2048}, {@code policies: [a.yaml, dir/]}); it supplies defaults, so flags
 * on the command line win. A key that is no option of the command, a nested map, or malformed YAML is
 * refused with the file, the line and, for a near miss, the option meant; nothing starts on a bad file.
 */
final class ConfigFileDefaults implements CommandLine.IDefaultValueProvider {
    private final Map<String, String> values;

    private ConfigFileDefaults(Map<String, String> values) {
        this.values = values;
    }

    /**
     * Reads {@code file} for {@code command}.
     *
     * @throws IllegalArgumentException naming the file, line and problem
     */
    static ConfigFileDefaults load(Path file, CommandSpec command) {
        String text;
        try {
            text = Files.readString(file);
        } catch (IOException e) {
            throw new IllegalArgumentException("config file " + file + " cannot be read: " + e.getMessage());
        }
        return parse(file.toString(), text, command);
    }

    /**
     * Reads the text of {@code file} for {@code command}.
     *
     * @throws IllegalArgumentException naming the file, line and problem
     */
    static ConfigFileDefaults parse(String file, String text, CommandSpec command) {
        Node root;
        try {
            LoaderOptions options = new LoaderOptions();
            options.setMaxAliasesForCollections(10);
            root = new Yaml(options).compose(new StringReader(text));
        } catch (MarkedYAMLException e) {
            org.yaml.snakeyaml.error.Mark m = e.getProblemMark() != null ? e.getProblemMark() : e.getContextMark();
            throw new IllegalArgumentException("config file " + file + (m == null ? "" : ":" + (m.getLine() + 1))
                    + ": not valid YAML: " + e.getProblem());
        } catch (org.yaml.snakeyaml.reader.ReaderException e) {
            throw new IllegalArgumentException("config file " + file + ": not valid YAML: character 0x"
                    + Integer.toHexString(e.getCodePoint()) + " at offset " + e.getPosition() + " is not allowed");
        } catch (org.yaml.snakeyaml.error.YAMLException e) {
            throw new IllegalArgumentException("config file " + file + ": not valid YAML: " + e.getMessage());
        }
        Map<String, String> out = new LinkedHashMap<>();
        if (root == null) {
            return new ConfigFileDefaults(out);
        }
        if (!(root instanceof MappingNode map)) {
            throw new IllegalArgumentException("config file " + file + ": expected a map of option names to values");
        }
        Map<String, OptionSpec> options = new LinkedHashMap<>();
        for (OptionSpec o : command.options()) {
            if (o.longestName().startsWith("--") && !o.usageHelp() && !o.versionHelp() && !o.longestName().equals("--config")) {
                options.put(o.longestName().substring(2), o);
            }
        }
        List<String> problems = new ArrayList<>();
        Map<String, Integer> lines = new java.util.HashMap<>(); // setting to the line it was first given on
        for (NodeTuple t : map.getValue()) {
            int line = t.getKeyNode().getStartMark().getLine() + 1;
            String key = t.getKeyNode() instanceof ScalarNode s ? s.getValue() : "?";
            Integer first = lines.putIfAbsent(key, line);
            if (first != null) {
                problems.add(file + ":" + line + ": '" + key + "' is given twice (first on line " + first + ")");
                continue;
            }
            OptionSpec o = options.get(key);
            if (o == null) {
                Optional<String> near = Suggest.closest(key, options.keySet());
                problems.add(file + ":" + line + ": unknown setting '" + key + "'"
                        + near.map(n -> " (did you mean '" + n + "'?)").orElse("")
                        + "; settings are the long option names of 'meshauth " + command.name() + "' without the dashes");
                continue;
            }
            switch (t.getValueNode()) {
                case ScalarNode s -> out.put(key, s.getValue());
                case SequenceNode seq when o.isMultiValue() -> {
                    List<String> items = new ArrayList<>();
                    for (Node n : seq.getValue()) {
                        if (n instanceof ScalarNode s) {
                            items.add(s.getValue());
                        } else {
                            problems.add(file + ":" + (n.getStartMark().getLine() + 1) + ": '" + key + "' items must be plain values");
                        }
                    }
                    out.put(key, String.join(",", items));
                }
                default -> problems.add(file + ":" + line + ": '" + key + "' must be "
                        + (o.isMultiValue() ? "a value or a list of values" : "a single value"));
            }
        }
        if (!problems.isEmpty()) {
            throw new IllegalArgumentException("config file refused:\n  " + String.join("\n  ", problems));
        }
        return new ConfigFileDefaults(out);
    }

    @Override
    public String defaultValue(ArgSpec arg) {
        if (arg instanceof OptionSpec o && o.longestName().startsWith("--")) {
            String v = values.get(o.longestName().substring(2));
            if (v != null) {
                return v;
            }
        }
        return null; // picocli then uses the option's own default
    }

    /** The settings the file gave. */
    Set<String> keys() {
        return new TreeSet<>(values.keySet());
    }
}
