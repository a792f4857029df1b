package dev.meshauth.agent.k8s;

import java.util.List;
import java.util.Map;
import java.util.Optional;

/** Reading nested fields of a generic resource's JSON tree, tolerating absent or differently typed ones. */
final class Fields {
    private Fields() {
    }

    /** The value at {@code path} (map keys; a number indexes a list), if every step exists. */
    static Optional<Object> at(Object root, Object... path) {
        Object cur = root;
        for (Object step : path) {
            if (step instanceof String key && cur instanceof Map<?, ?> m) {
                cur = m.get(key);
            } else if (step instanceof Integer i && cur instanceof List<?> l && i < l.size()) {
                cur = l.get(i);
            } else {
                return Optional.empty();
            }
            if (cur == null) {
                return Optional.empty();
            }
        }
        return Optional.of(cur);
    }

    static Optional<String> string(Object root, Object... path) {
        return at(root, path).filter(String.class::isInstance).map(String.class::cast);
    }

    static Optional<Long> number(Object root, Object... path) {
        return at(root, path).flatMap(v -> {
            if (v instanceof Number n) {
                return Optional.of(n.longValue());
            }
            try {
                return Optional.of(Long.parseLong(v.toString()));
            } catch (NumberFormatException e) {
                return Optional.empty();
            }
        });
    }
}
