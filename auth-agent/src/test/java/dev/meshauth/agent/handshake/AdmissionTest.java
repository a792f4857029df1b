package dev.meshauth.agent.handshake;

import org.junit.jupiter.api.Test;

import java.net.InetAddress;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.Callable;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The listener's handshake slots: per address and in all, given back exactly once each. */
class AdmissionTest {
    private static InetAddress ip(String s) throws Exception {
        return InetAddress.getByName(s);
    }

    @Test
    void aFloodingAddressFillsOnlyItsShare() throws Exception {
        Admission a = new Admission(10, 3);
        InetAddress flood = ip("198.18.0.66");
        for (int i = 0; i < 3; i++) {
            assertThat(a.admit(flood)).isEmpty();
        }
        assertThat(a.admit(flood)).contains(InboundRefusal.PEER_LIMIT);
        assertThat(a.admit(ip("198.18.0.2"))).as("another node still gets in").isEmpty();
        assertThat(a.inHandshake()).isEqualTo(4);
        a.release(flood);
        assertThat(a.admit(flood)).as("a released slot is free again").isEmpty();
    }

    @Test
    void theGlobalLimitHoldsAcrossAddresses() throws Exception {
        Admission a = new Admission(4, 3);
        for (int i = 1; i <= 4; i++) {
            assertThat(a.admit(ip("198.18.1." + i))).isEmpty();
        }
        assertThat(a.admit(ip("198.18.1.9"))).contains(InboundRefusal.OVERLOADED);
        assertThat(a.inHandshake()).as("a refusal takes nothing").isEqualTo(4);
        a.release(ip("198.18.1.1"));
        assertThat(a.peers()).isEqualTo(3);
        assertThat(a.admit(ip("198.18.1.9"))).isEmpty();
    }

    @Test
    void concurrentAdmitsNeverExceedEitherLimitAndAllReleaseToZero() throws Exception {
        Admission a = new Admission(64, 8);
        List<InetAddress> peers = new ArrayList<>();
        for (int i = 0; i < 16; i++) {
            peers.add(ip("198.18.2." + (i + 1)));
        }
        ExecutorService pool = Executors.newFixedThreadPool(8);
        try {
            List<Callable<Integer>> work = new ArrayList<>();
            for (int t = 0; t < 8; t++) {
                int seed = t;
                work.add(() -> {
                    int max = 0;
                    java.util.Random r = new java.util.Random(seed);
                    List<InetAddress> held = new ArrayList<>();
                    for (int i = 0; i < 20_000; i++) {
                        if (!held.isEmpty() && r.nextBoolean()) {
                            a.release(held.remove(held.size() - 1));
                        } else {
                            InetAddress p = peers.get(r.nextInt(peers.size()));
                            if (a.admit(p).isEmpty()) {
                                held.add(p);
                            }
                        }
                        max = Math.max(max, a.inHandshake());
                    }
                    held.forEach(a::release);
                    return max;
                });
            }
            for (Future<Integer> f : pool.invokeAll(work)) {
                assertThat(f.get()).isLessThanOrEqualTo(64);
            }
        } finally {
            pool.shutdownNow();
        }
        assertThat(a.inHandshake()).isZero();
        assertThat(a.peers()).isZero();
    }

    @Test
    void limitsMustBePositive() {
        assertThatThrownBy(() -> new Admission(0, 1)).hasMessageContaining("must be positive");
    }
}
