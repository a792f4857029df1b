package dev.meshauth.agent.handshake;

import dev.meshauth.testing.FakeClock;
import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.time.Duration;
import java.util.OptionalLong;

import static org.assertj.core.api.Assertions.assertThat;

/** A flood of refusals is told in samples, each carrying how many it stands for; the clock is a fake. */
class RefusalLogTest {
    @Test
    void theFirstIsToldThenOnePerIntervalWithHowManyWereHeldBack() throws Exception {
        FakeClock clock = new FakeClock();
        RefusalLog log = new RefusalLog(clock, Duration.ofSeconds(10), 100);
        InetAddress flood = InetAddress.getByName("198.18.0.66");
        assertThat(log.report(flood, InboundRefusal.TIMEOUT)).hasValue(0);
        for (int i = 0; i < 9_999; i++) {
            assertThat(log.report(flood, InboundRefusal.TIMEOUT)).isEmpty();
        }
        assertThat(log.report(flood, InboundRefusal.NOT_TLS)).as("another reason is told apart").hasValue(0);
        assertThat(log.report(InetAddress.getByName("198.18.0.2"), InboundRefusal.TIMEOUT)).as("another peer too")
                .hasValue(0);
        clock.advance(Duration.ofMillis(9_999));
        assertThat(log.report(flood, InboundRefusal.TIMEOUT)).isEmpty();
        clock.advance(Duration.ofMillis(1));
        assertThat(log.report(flood, InboundRefusal.TIMEOUT)).hasValue(10_000);
    }

    @Test
    void manyAddressesShareOneKeyPastTheLimit() throws Exception {
        FakeClock clock = new FakeClock();
        RefusalLog log = new RefusalLog(clock, Duration.ofSeconds(10), 4);
        int told = 0;
        for (int i = 1; i <= 200; i++) {
            OptionalLong r = log.report(InetAddress.getByName("198.18.3." + i), InboundRefusal.PEER_LIMIT);
            told += r.isPresent() ? 1 : 0;
        }
        assertThat(told).as("4 addresses, then the shared key once").isEqualTo(5);
        assertThat(log.tracked()).isLessThanOrEqualTo(5);
        clock.advance(Duration.ofSeconds(11));
        assertThat(log.report(InetAddress.getByName("198.18.4.1"), InboundRefusal.PEER_LIMIT)).as("quiet keys are forgotten")
                .hasValue(0);
        assertThat(log.tracked()).isLessThanOrEqualTo(5);
    }
}
