package dev.meshauth.spire.config;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.time.Duration;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Go's time.ParseDuration and Duration.String, row by row (values from Go's own documentation and tests). */
class GoDurationTest {
    @ParameterizedTest(name = "{0} is {1} ns")
    @CsvSource({
            "0, 0", "5m0s, 300000000000", "1h, 3600000000000", "300ms, 300000000", "1h30m, 5400000000000",
            "1.5s, 1500000000", "-1.5h, -5400000000000", "2h45m, 9900000000000", "10us, 10000", "10µs, 10000",
            "100ns, 100", "1h0m0s, 3600000000000", "+5s, 5000000000", ".5s, 500000000", "1.s, 1000000000",
            "PT5M, 300000000000", "PT1H, 3600000000000"})
    void parsesGoAndIsoDurations(String text, long nanos) {
        assertThat(GoDuration.parse(text)).isEqualTo(Duration.ofNanos(nanos));
    }

    @ParameterizedTest(name = "{0}")
    @CsvSource({"5", "5x", "m", "1h1", "'', ", ".s", "PT5X", "5 m"})
    void refusesWhatGoRefuses(String text) {
        String t = text == null ? "" : text;
        assertThatThrownBy(() -> GoDuration.parse(t)).isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("is not a duration: write it as Go does (5m0s, 1h, 300ms, 1h30m) or as ISO-8601 (PT5M)");
    }

    @ParameterizedTest(name = "{1} prints as {0}")
    @CsvSource({"0s, 0", "1h0m0s, 3600000000000", "5m0s, 300000000000", "300ms, 300000000", "1.5s, 1500000000",
            "1m30s, 90000000000", "10s, 10000000000", "2h45m0s, 9900000000000", "1µs, 1000", "100ns, 100",
            "6h0m0s, 21600000000000", "-1.5s, -1500000000", "1h0m0.5s, 3600500000000"})
    void printsAsGoDoes(String text, long nanos) {
        assertThat(GoDuration.format(Duration.ofNanos(nanos))).isEqualTo(text);
        assertThat(GoDuration.parse(text)).isEqualTo(Duration.ofNanos(nanos));
    }

    @Test
    void refusesWhatDoesNotFitInSignedNanoseconds() {
        assertThatThrownBy(() -> GoDuration.parse("3000000h")).hasMessageContaining("too long");
    }
}
