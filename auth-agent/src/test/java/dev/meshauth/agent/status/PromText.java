package dev.meshauth.agent.status;

import java.util.HashMap;
import java.util.LinkedHashMap;
import java.util.Map;
import java.util.TreeMap;

/**
 * A strict reader of the Prometheus text exposition format 0.0.4, for tests: every sample belongs to a
 * family with a {@code # TYPE} line, names and label names are valid, label values are quoted with the
 * format's escapes, values parse, no series repeats, and a histogram's buckets are cumulative with
 * {@code _count} equal to its {@code +Inf} bucket. Anything else throws, naming the line.
 */
final class PromText {
    /** One family's samples, keyed by "name{a="x",b="y"}" with labels sorted. */
    record Family(String name, String type, Map<String, Double> samples) {
    }

    private PromText() {
    }

    static Map<String, Family> parse(String text) {
        Map<String, Family> families = new LinkedHashMap<>();
        Map<String, Double> all = new HashMap<>();
        int n = 0;
        for (String line : text.split("\n", -1)) {
            n++;
            if (line.isEmpty()) {
                continue;
            }
            if (line.startsWith("# TYPE ")) {
                String[] p = line.substring(7).split(" ");
                check(p.length == 2 && validName(p[0]), n, line, "malformed TYPE");
                check(java.util.Set.of("counter", "gauge", "histogram", "summary", "untyped").contains(p[1]), n, line, "type");
                check(!families.containsKey(p[0]), n, line, "TYPE repeated");
                families.put(p[0], new Family(p[0], p[1], new LinkedHashMap<>()));
                continue;
            }
            if (line.startsWith("#")) {
                continue; // HELP and comments
            }
            int brace = line.indexOf('{');
            int space = line.indexOf(' ');
            String name = line.substring(0, brace >= 0 && brace < space ? brace : space);
            check(validName(name), n, line, "metric name");
            Map<String, String> labels = new TreeMap<>();
            int i = name.length();
            if (line.charAt(i) == '{') {
                i++;
                while (line.charAt(i) != '}') {
                    int eq = line.indexOf('=', i);
                    String ln = line.substring(i, eq);
                    check(ln.matches("[a-zA-Z_][a-zA-Z0-9_]*"), n, line, "label name");
                    check(line.charAt(eq + 1) == '"', n, line, "label value must be quoted");
                    StringBuilder v = new StringBuilder();
                    int j = eq + 2;
                    for (; line.charAt(j) != '"'; j++) {
                        char c = line.charAt(j);
                        if (c == '\\') {
                            char e = line.charAt(++j);
                            v.append(switch (e) {
                                case 'n' -> '\n';
                                case '\\' -> '\\';
                                case '"' -> '"';
                                default -> throw new IllegalArgumentException("line " + n + ": bad escape: " + line);
                            });
                        } else {
                            v.append(c);
                        }
                    }
                    check(labels.put(ln, v.toString()) == null, n, line, "label repeated");
                    i = j + 1;
                    if (line.charAt(i) == ',') {
                        i++;
                    }
                }
                i++;
            }
            check(line.charAt(i) == ' ', n, line, "space before the value");
            String[] rest = line.substring(i + 1).split(" ");
            double value = switch (rest[0]) {
                case "+Inf" -> Double.POSITIVE_INFINITY;
                case "-Inf" -> Double.NEGATIVE_INFINITY;
                case "NaN" -> Double.NaN;
                default -> Double.parseDouble(rest[0]);
            };
            Family f = familyOf(families, name);
            check(f != null, n, line, "sample without a TYPE line for its family");
            String key = labels.isEmpty() ? name : name + "{" + String.join(",", labels.entrySet().stream()
                    .map(e -> e.getKey() + "=\"" + e.getValue() + "\"").toList()) + "}";
            check(all.put(key, value) == null, n, line, "series repeated");
            f.samples().put(key, value);
        }
        for (Family f : families.values()) {
            if (f.type().equals("histogram")) {
                checkHistogram(f);
            }
        }
        return families;
    }

    private static Family familyOf(Map<String, Family> families, String sample) {
        if (families.containsKey(sample)) {
            return families.get(sample);
        }
        for (String suffix : new String[] {"_bucket", "_count", "_sum", "_total", "_created"}) {
            if (sample.endsWith(suffix)) {
                String base = sample.substring(0, sample.length() - suffix.length());
                if (families.containsKey(base)) {
                    return families.get(base);
                }
            }
        }
        return null;
    }

    private static void checkHistogram(Family f) {
        Map<String, Double> lastBucket = new HashMap<>();
        Map<String, Double> inf = new HashMap<>();
        for (var e : f.samples().entrySet()) {
            if (!e.getKey().startsWith(f.name() + "_bucket")) {
                continue;
            }
            String series = e.getKey().replaceAll("le=\"[^\"]*\",?", "").replace(",}", "}").replace("{}", "");
            Double prev = lastBucket.put(series, e.getValue());
            if (prev != null && e.getValue() < prev) {
                throw new IllegalArgumentException(f.name() + ": buckets not cumulative in " + series);
            }
            if (e.getKey().contains("le=\"+Inf\"")) {
                inf.put(series, e.getValue());
            }
        }
        inf.forEach((series, v) -> {
            String count = series.replace(f.name() + "_bucket", f.name() + "_count");
            Double c = f.samples().get(count);
            if (c == null || !c.equals(v)) {
                throw new IllegalArgumentException(f.name() + ": _count " + c + " != +Inf bucket " + v + " for " + series);
            }
        });
    }

    private static boolean validName(String s) {
        return s.matches("[a-zA-Z_:][a-zA-Z0-9_:]*");
    }

    private static void check(boolean ok, int line, String text, String what) {
        if (!ok) {
            throw new IllegalArgumentException("line " + line + ": " + what + ": " + text);
        }
    }
}
