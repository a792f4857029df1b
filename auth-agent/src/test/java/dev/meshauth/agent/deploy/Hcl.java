package dev.meshauth.agent.deploy;

import java.util.ArrayList;
import java.util.LinkedHashMap;
import java.util.List;
import java.util.Map;

/**
 * The HCL subset SPIRE's config files use, for tests: {@code key = value}, blocks with and without
 * labels ({@code plugins { DataStore "sql" { ... } }}), strings, numbers, booleans, lists and objects,
 * {@code #} and {@code //} comments. A labelled block becomes nested maps: DataStore -> sql -> body.
 * Malformed input throws with the offset.
 */
final class Hcl {
    private final String s;
    private int i;

    private Hcl(String s) {
        this.s = s;
    }

    static Map<String, Object> parse(String text) {
        Hcl h = new Hcl(text);
        Map<String, Object> body = h.body(false);
        h.skip();
        if (h.i != h.s.length()) {
            throw h.error("trailing input");
        }
        return body;
    }

    private Map<String, Object> body(boolean braced) {
        Map<String, Object> out = new LinkedHashMap<>();
        while (true) {
            skip();
            if (i >= s.length() || (braced && s.charAt(i) == '}')) {
                return out;
            }
            String key = s.charAt(i) == '"' ? string() : ident();
            skip();
            if (s.charAt(i) == '=') {
                i++;
                if (out.put(key, value()) != null) {
                    throw error("duplicate key " + key);
                }
                continue;
            }
            List<String> labels = new ArrayList<>();
            while (s.charAt(i) == '"') {
                labels.add(string());
                skip();
            }
            expect('{');
            Map<String, Object> block = body(true);
            expect('}');
            @SuppressWarnings("unchecked")
            Map<String, Object> target = (Map<String, Object>) out.computeIfAbsent(key, k -> new LinkedHashMap<String, Object>());
            for (String l : labels) {
                @SuppressWarnings("unchecked")
                Map<String, Object> next = (Map<String, Object>) target.computeIfAbsent(l, k -> new LinkedHashMap<String, Object>());
                target = next;
            }
            target.putAll(block);
        }
    }

    private Object value() {
        skip();
        char c = s.charAt(i);
        if (c == '"') {
            return string();
        }
        if (c == '[') {
            i++;
            List<Object> list = new ArrayList<>();
            while (true) {
                skip();
                if (s.charAt(i) == ']') {
                    i++;
                    return list;
                }
                list.add(value());
                skip();
                if (s.charAt(i) == ',') {
                    i++;
                }
            }
        }
        if (c == '{') {
            i++;
            Map<String, Object> obj = new LinkedHashMap<>();
            while (true) {
                skip();
                if (s.charAt(i) == '}') {
                    i++;
                    return obj;
                }
                String k = s.charAt(i) == '"' ? string() : ident();
                skip();
                expect('=');
                obj.put(k, value());
                skip();
                if (s.charAt(i) == ',') {
                    i++;
                }
            }
        }
        String word = ident();
        return switch (word) {
            case "true" -> true;
            case "false" -> false;
            default -> {
                try {
                    yield Long.parseLong(word);
                } catch (NumberFormatException e) {
                    throw error("unexpected " + word);
                }
            }
        };
    }

    private String string() {
        expect('"');
        StringBuilder sb = new StringBuilder();
        while (s.charAt(i) != '"') {
            if (s.charAt(i) == '\\') {
                i++;
            }
            sb.append(s.charAt(i++));
        }
        i++;
        return sb.toString();
    }

    private String ident() {
        int start = i;
        while (i < s.length() && (Character.isLetterOrDigit(s.charAt(i)) || s.charAt(i) == '_' || s.charAt(i) == '-'
                || s.charAt(i) == '.')) {
            i++;
        }
        if (start == i) {
            throw error("expected a name");
        }
        return s.substring(start, i);
    }

    private void expect(char c) {
        skip();
        if (i >= s.length() || s.charAt(i) != c) {
            throw error("expected '" + c + "'");
        }
        i++;
    }

    private void skip() {
        while (i < s.length()) {
            char c = s.charAt(i);
            if (Character.isWhitespace(c)) {
                i++;
            } else if (c == '#' || (c == '/' && i + 1 < s.length() && s.charAt(i + 1) == '/')) {
                while (i < s.length() && s.charAt(i) != '\n') {
                    i++;
                }
            } else {
                return;
            }
        }
    }

    private IllegalArgumentException error(String what) {
        return new IllegalArgumentException("HCL offset " + i + ": " + what + " near '"
                + s.substring(Math.max(0, i - 20), Math.min(s.length(), i + 20)) + "'");
    }
}
