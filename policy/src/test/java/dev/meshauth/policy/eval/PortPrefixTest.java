package dev.meshauth.policy.eval;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.util.List;
import java.util.Random;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Port ranges as port/prefix pairs: exactly the range, disjoint, and few. */
class PortPrefixTest {
    @ParameterizedTest(name = "{0}-{1} is {2} prefixes")
    @CsvSource({
            "80, 80, 1",          // one port
            "8192, 12287, 1",     // 4,096 ports aligned on 4,096: one key
            "0, 65535, 1",        // everything
            "1, 65535, 16",       // everything but 0: 1/16, 2/15, 4/14 ... 32768/1
            "80, 83, 1",
            "79, 84, 3",          // 79, 80-83, 84
            "1024, 65535, 6"})    // 1024/6, 2048/5, 4096/4, 8192/3, 16384/2, 32768/1
    void rangesBecomeFewPrefixes(int from, int to, int count) {
        assertThat(PortPrefix.of(from, to)).hasSize(count);
        assertCoversExactly(from, to, PortPrefix.of(from, to));
    }

    @Test
    void randomRangesAreCoveredExactlyByAtMostTwoPrefixesPerBit() {
        Random r = new Random(42);
        for (int i = 0; i < 2000; i++) {
            int a = r.nextInt(65536);
            int b = a + r.nextInt(65536 - a);
            List<PortPrefix> ps = PortPrefix.of(a, b);
            assertCoversExactly(a, b, ps);
            assertThat(ps.size()).as("%d-%d", a, b).isLessThanOrEqualTo(32);
        }
    }

    @Test
    void refusesAnInvertedRange() {
        assertThatThrownBy(() -> PortPrefix.of(90, 80)).isInstanceOf(IllegalArgumentException.class)
                .hasMessage("bad port range 90-80");
    }

    /** Each port of 0..65535 is in exactly one prefix if in the range, in none otherwise. */
    private static void assertCoversExactly(int from, int to, List<PortPrefix> prefixes) {
        int[] hits = new int[65536];
        for (PortPrefix p : prefixes) {
            int mask = PortPrefix.mask(p.length());
            assertThat(p.port() & ~mask).as("no bits past the prefix in %s", p).isZero();
            int last = p.port() | (~mask & 0xFFFF);
            for (int port = p.port(); port <= last; port++) {
                hits[port]++;
            }
        }
        for (int port = 0; port < 65536; port++) {
            assertThat(hits[port]).as("port %d for %d-%d", port, from, to).isEqualTo(port >= from && port <= to ? 1 : 0);
        }
    }
}
