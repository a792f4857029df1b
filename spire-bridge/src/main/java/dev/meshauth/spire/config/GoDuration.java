package dev.meshauth.spire.config;

import java.math.BigDecimal;
import java.time.Duration;
import java.time.format.DateTimeParseException;
import java.util.Map;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

/**
 * Durations as Go writes them ({@code time.ParseDuration}, {@code Duration.String}): the syntax of SPIRE's
 * configuration, Cilium's flags and kubectl ({@code 5m0s}, {@code 1h30m}, {@code 300ms}, {@code 1.5s}).
 * ISO-8601 ({@code PT5M}) is accepted as well, for configurations written before.
 */
public final class GoDuration {
    private static final Pattern UNIT = Pattern.compile("([0-9]*(?:\\.[0-9]*)?)(ns|us|µs|μs|ms|s|m|h)");
    private static final Map<String, Long> NANOS = Map.of("ns", 1L, "us", 1_000L, "µs", 1_000L, "μs", 1_000L,
            "ms", 1_000_000L, "s", 1_000_000_000L, "m", 60_000_000_000L, "h", 3_600_000_000_000L);

    private GoDuration() {
    }

    /**
     * Parses {@code text}: a Go duration ({@code [-+]?([0-9]*(\.[0-9]*)?[a-z]+)+}, or {@code 0}) or ISO-8601.
     *
     * @throws IllegalArgumentException naming the text and valid forms
     */
    public static Duration parse(String text) {
        String s = text.strip();
        if (s.startsWith("P") || s.startsWith("p") || s.startsWith("-P") || s.startsWith("+P")) {
            try {
                return Duration.parse(s);
            } catch (DateTimeParseException e) {
                throw invalid(text);
            }
        }
        boolean negative = s.startsWith("-");
        if (negative || s.startsWith("+")) {
            s = s.substring(1);
        }
        if (s.equals("0")) {
            return Duration.ZERO;
        }
        if (s.isEmpty()) {
            throw invalid(text);
        }
        Matcher m = UNIT.matcher(s);
        BigDecimal total = BigDecimal.ZERO;
        int at = 0;
        while (at < s.length()) {
            if (!m.find(at) || m.start() != at || m.group(1).isEmpty() || m.group(1).equals(".")) {
                throw invalid(text);
            }
            total = total.add(new BigDecimal(m.group(1)).multiply(BigDecimal.valueOf(NANOS.get(m.group(2)))));
            at = m.end();
        }
        if (total.compareTo(BigDecimal.valueOf(Long.MAX_VALUE)) > 0) {
            throw new IllegalArgumentException("'" + text + "' is too long a duration");
        }
        long nanos = total.longValue(); // Go truncates fractions of a nanosecond too
        return Duration.ofNanos(negative ? -nanos : nanos);
    }

    private static IllegalArgumentException invalid(String text) {
        return new IllegalArgumentException("'" + text + "' is not a duration: write it as Go does (5m0s, 1h, 300ms, 1h30m)"
                + " or as ISO-8601 (PT5M)");
    }

    /** {@code d} as Go's {@code Duration.String} prints it: {@code 1h0m0s}, {@code 5m0s}, {@code 300ms}, {@code 1.5s}, {@code 0s}. */
    public static String format(Duration d) {
        if (d.isZero()) {
            return "0s";
        }
        boolean negative = d.isNegative();
        long n = Math.abs(d.toNanos());
        String body;
        if (n < 1_000_000_000L) {
            if (n < 1_000L) {
                body = n + "ns";
            } else if (n < 1_000_000L) {
                body = fraction(n, 1_000L) + "µs";
            } else {
                body = fraction(n, 1_000_000L) + "ms";
            }
        } else {
            long h = n / 3_600_000_000_000L;
            long m = n / 60_000_000_000L % 60;
            String s = fraction(n % 60_000_000_000L, 1_000_000_000L) + "s";
            body = h > 0 ? h + "h" + m + "m" + s : m > 0 ? m + "m" + s : s;
        }
        return (negative ? "-" : "") + body;
    }

    /** {@code n / unit} with its fraction, trailing zeros dropped ("1.5", "300"). */
    private static String fraction(long n, long unit) {
        BigDecimal v = BigDecimal.valueOf(n).divide(BigDecimal.valueOf(unit)).stripTrailingZeros();
        return v.scale() < 0 ? v.setScale(0).toPlainString() : v.toPlainString();
    }
}
