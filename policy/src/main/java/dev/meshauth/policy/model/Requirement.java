package dev.meshauth.policy.model;

import java.util.Map;
import java.util.Set;

/**
 * A {@code matchExpressions} item.
 *
 * @param key      label key (source prefix removed)
 * @param operator In, NotIn, Exists, DoesNotExist
 * @param values   values for In/NotIn
 */
public record Requirement(String key, Operator operator, Set<String> values) {
    /** Label selector operators. */
    public enum Operator { In, NotIn, Exists, DoesNotExist }

    /** Copies values. */
    public Requirement {
        values = Set.copyOf(values);
    }

    /** True if {@code labels} satisfy this requirement. */
    public boolean matches(Map<String, String> labels) {
        String v = labels.get(key);
        return switch (operator) {
            case In -> v != null && values.contains(v);
            case NotIn -> v == null || !values.contains(v);
            case Exists -> v != null;
            case DoesNotExist -> v == null;
        };
    }
}
