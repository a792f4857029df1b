package dev.meshauth.spire.local;

import java.time.Duration;
import java.util.List;
import java.util.stream.Collectors;

/** The few HCL and Go-duration spellings SPIRE's config files need. */
final class Hcl {
    private Hcl() {
    }

    /** A quoted HCL string, with {@code "} and {@code \} escaped. */
    static String str(Object value) {
        return "\"" + value.toString().replace("\\", "\\\\").replace("\"", "\\\"") + "\"";
    }

    /** A list of quoted strings. */
    static String list(List<?> values) {
        return values.stream().map(Hcl::str).collect(Collectors.joining(", ", "[", "]"));
    }

    /** A Go duration as SPIRE parses it (time.ParseDuration). */
    static String duration(Duration d) {
        if (d.isNegative() || d.isZero()) {
            throw new IllegalArgumentException("SPIRE durations must be positive, got " + d);
        }
        return dev.meshauth.spire.config.GoDuration.format(d);
    }
}
