package dev.meshauth.policy.yaml;

import dev.meshauth.policy.model.EndpointSelector;
import dev.meshauth.policy.model.Requirement;
import org.yaml.snakeyaml.nodes.Node;

import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.LinkedHashSet;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Kubernetes label selectors in a policy ({@code matchLabels}, {@code matchExpressions}), with Cilium's
 * label sources ({@code k8s:}, {@code any:}); problems go to the policy's reader, located.
 */
final class SelectorParser {
    private static final Set<String> SELECTOR = Set.of("matchLabels", "matchExpressions");
    private static final Set<String> EXPRESSION = Set.of("key", "operator", "values");

    private final YamlReader r;

    SelectorParser(YamlReader r) {
        this.r = r;
    }

    /** The selector at {@code path}; a problem is noted for anything malformed or a selector that can never match. */
    EndpointSelector parse(Node node, String path) {
        Map<String, Node> m = r.mapping(node, path, SELECTOR);
        Map<String, String> labels = new HashMap<>();
        if (m.containsKey("matchLabels")) {
            r.stringMap(m.get("matchLabels"), path + ".matchLabels").forEach((k, v) ->
                    labelKey(k, m.get("matchLabels"), path + ".matchLabels").ifPresent(key -> labels.put(key, v)));
        }
        List<Requirement> exprs = new ArrayList<>();
        if (m.containsKey("matchExpressions")) {
            List<Node> items = r.sequence(m.get("matchExpressions"), path + ".matchExpressions");
            for (int i = 0; i < items.size(); i++) {
                expression(items.get(i), path + ".matchExpressions[" + i + "]").ifPresent(exprs::add);
            }
        }
        EndpointSelector sel = new EndpointSelector(labels, exprs);
        neverMatches(sel).ifPresent(why -> r.problem(node, path, "this selector can never match: " + why));
        return sel;
    }

    private Optional<Requirement> expression(Node node, String path) {
        Map<String, Node> m = r.mapping(node, path, EXPRESSION);
        if (!m.containsKey("key") || !m.containsKey("operator")) {
            r.problem(node, path, "needs key and operator");
            return Optional.empty();
        }
        Optional<String> key = r.scalar(m.get("key"), path + ".key").flatMap(k -> labelKey(k, m.get("key"), path + ".key"));
        String op = r.scalar(m.get("operator"), path + ".operator").orElse("");
        Requirement.Operator operator;
        try {
            operator = Requirement.Operator.valueOf(op);
        } catch (IllegalArgumentException e) {
            String hint = Suggest.closest(op, List.of("In", "NotIn", "Exists", "DoesNotExist"))
                    .map(x -> " (did you mean '" + x + "'?)").orElse("");
            r.problem(m.get("operator"), path + ".operator", "must be In, NotIn, Exists or DoesNotExist, got '" + op + "'" + hint);
            return Optional.empty();
        }
        Set<String> values = new LinkedHashSet<>();
        if (m.containsKey("values")) {
            for (Node v : r.sequence(m.get("values"), path + ".values")) {
                r.scalar(v, path + ".values").ifPresent(values::add);
            }
        }
        boolean needsValues = operator == Requirement.Operator.In || operator == Requirement.Operator.NotIn;
        if (needsValues && values.isEmpty()) {
            r.problem(node, path + ".values", operator + " needs at least one value");
            return Optional.empty();
        }
        if (!needsValues && !values.isEmpty()) {
            r.problem(m.get("values"), path + ".values", operator + " takes no values");
            return Optional.empty();
        }
        return key.map(k -> new Requirement(k, operator, values));
    }

    private Optional<String> labelKey(String key, Node at, String path) {
        int colon = key.indexOf(':');
        if (colon < 0) {
            return Optional.of(key);
        }
        String source = key.substring(0, colon);
        if (source.equals("k8s") || source.equals("any")) {
            return Optional.of(key.substring(colon + 1));
        }
        r.problem(at, path, "label source '" + source + ":' is not supported (use k8s: or any:, or no prefix)");
        return Optional.empty();
    }

    private static Optional<String> neverMatches(EndpointSelector s) {
        Map<String, Set<String>> in = new HashMap<>();
        Set<String> exists = new HashSet<>();
        Set<String> absent = new HashSet<>();
        for (Requirement q : s.matchExpressions()) {
            switch (q.operator()) {
                case In -> in.merge(q.key(), new HashSet<>(q.values()), (a, b) -> {
                    a.retainAll(b);
                    return a;
                });
                case Exists -> exists.add(q.key());
                case DoesNotExist -> absent.add(q.key());
                case NotIn -> {
                    String fixed = s.matchLabels().get(q.key());
                    if (fixed != null && q.values().contains(fixed)) {
                        return Optional.of(q.key() + "=" + fixed + " and " + q.key() + " NotIn " + q.values());
                    }
                }
            }
        }
        for (String k : absent) {
            if (exists.contains(k) || s.matchLabels().containsKey(k) || in.containsKey(k)) {
                return Optional.of(k + " must both exist and not exist");
            }
        }
        for (Map.Entry<String, Set<String>> e : in.entrySet()) {
            String fixed = s.matchLabels().get(e.getKey());
            if (e.getValue().isEmpty() || (fixed != null && !e.getValue().contains(fixed))) {
                return Optional.of("no value of " + e.getKey() + " satisfies every In and matchLabels");
            }
        }
        return Optional.empty();
    }
}
