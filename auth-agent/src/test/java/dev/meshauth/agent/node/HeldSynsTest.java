package dev.meshauth.agent.node;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.datapath.HeldSyn;
import dev.meshauth.bpf.datapath.Role;
import org.junit.jupiter.api.Test;

import java.time.Duration;
import java.util.ArrayList;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;

import static org.assertj.core.api.Assertions.assertThat;

/** Held SYNs go back once, when their pair is authenticated, within their age and the limits. */
class HeldSynsTest {
    private static final AuthKey A = new AuthKey(1001, 1002, 2, AuthType.SPIRE);
    private static final AuthKey B = new AuthKey(1001, 1003, 2, AuthType.SPIRE);
    private final AtomicLong nanos = new AtomicLong();
    private final List<HeldSyn> putBack = new ArrayList<>();
    private final Set<AuthKey> valid = new HashSet<>();

    private HeldSyns syns(HeldSyns.Limits limits) {
        return new HeldSyns(Runnable::run, putBack::add, valid::contains, nanos::get, limits);
    }

    private static HeldSyn syn(AuthKey key, int port) {
        byte[] frame = new byte[60];
        frame[12] = 0x08;
        frame[40] = (byte) port; // makes each frame distinct
        return new HeldSyn(key, Role.TO_ENDPOINT, 3, frame);
    }

    @Test
    void aSynGoesBackWhenItsPairIsAuthenticatedAndOnlyThen() {
        HeldSyns s = syns(HeldSyns.Limits.DEFAULTS);
        s.held(syn(A, 1));
        s.held(syn(B, 2));
        assertThat(putBack).isEmpty();
        s.authenticated(A);
        assertThat(putBack).containsExactly(syn(A, 1));
        s.authenticated(A);
        assertThat(putBack).as("once").hasSize(1);
        s.authenticated(B);
        assertThat(putBack).containsExactly(syn(A, 1), syn(B, 2));
        assertThat(s.stats()).isEqualTo(new HeldSyns.Stats(2, 2, 0, 0, 0));
    }

    @Test
    void aSynWhosePairIsAlreadyAuthenticatedGoesBackAtOnce() {
        HeldSyns s = syns(HeldSyns.Limits.DEFAULTS);
        valid.add(A); // the entry was written while the SYN travelled through the ring buffer
        s.held(syn(A, 1));
        assertThat(putBack).containsExactly(syn(A, 1));
    }

    @Test
    void synsOlderThanTheirAgeAreNotPutBack() {
        HeldSyns s = syns(HeldSyns.Limits.DEFAULTS);
        s.held(syn(A, 1));
        nanos.addAndGet(Duration.ofSeconds(2).toNanos());
        s.held(syn(A, 2));
        nanos.addAndGet(Duration.ofMillis(1500).toNanos());
        s.authenticated(A);
        assertThat(putBack).as("the first is 3.5 s old").containsExactly(syn(A, 2));
        assertThat(s.stats().expired()).isEqualTo(1);
    }

    @Test
    void theLimitsBoundWhatIsHeldAndExpiredSynsMakeRoom() {
        HeldSyns s = syns(new HeldSyns.Limits(Duration.ofSeconds(3), 2, 3));
        s.held(syn(A, 1));
        s.held(syn(A, 2));
        s.held(syn(A, 3));
        assertThat(s.stats().overflowed()).as("per pair").isEqualTo(1);
        s.held(syn(B, 4));
        s.held(syn(B, 5));
        assertThat(s.stats().overflowed()).as("in all").isEqualTo(2);
        nanos.addAndGet(Duration.ofSeconds(4).toNanos());
        s.held(syn(B, 6));
        s.held(syn(B, 7));
        assertThat(s.stats().overflowed()).as("the old ones were dropped at capacity, making room").isEqualTo(2);
        s.authenticated(B);
        assertThat(putBack).containsExactly(syn(B, 6), syn(B, 7));
        assertThat(s.stats().expired()).isEqualTo(3);
    }

    @Test
    void aSynThatCannotBePutBackIsCountedAndTheOthersStillGo() {
        HeldSyns s = new HeldSyns(Runnable::run, syn -> {
            if (syn.frame()[40] == 1) {
                throw BpfException.of("put back a held SYN", "address 198.18.0.2", "no local endpoint");
            }
            putBack.add(syn);
        }, valid::contains, nanos::get, HeldSyns.Limits.DEFAULTS);
        s.held(syn(A, 1));
        s.held(syn(A, 2));
        s.authenticated(A);
        assertThat(putBack).containsExactly(syn(A, 2));
        assertThat(s.stats().failed()).isEqualTo(1);
    }
}
