package dev.meshauth.bpf.datapath;

import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.auth.KernelAuthMap;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import org.junit.jupiter.api.AfterEach;
import org.junit.jupiter.api.BeforeEach;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Duration;
import java.time.Instant;
import java.util.Map;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * The enforcement program against crafted frames through PROG_TEST_RUN, with real maps, the real
 * verifier, real ktime and the real ring buffer.
 */
@KernelTest
class EnforcementProgramKernelTest {
    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();
    private static final AtomicInteger SEQ = new AtomicInteger();

    // The guide's cast: the deathstar (local, protected), a tiefighter and an xwing on node 7.
    static final String DEATHSTAR = "198.18.0.10";
    static final String TIEFIGHTER = "198.18.1.20";
    static final String XWING = "198.18.1.30";
    static final String PROBE = "198.18.1.50";       // allowed without auth
    static final String UNSELECTED = "198.18.0.40";  // an endpoint no policy selects
    static final String OUTSIDER = "203.0.113.9";     // not in the ipcache: world (never sent anywhere)
    static final long DEATHSTAR_ID = 1000;
    static final long TIEFIGHTER_ID = 2000;
    static final long XWING_ID = 3000;
    static final long PROBE_ID = 5000;
    static final int REMOTE_NODE = 7;

    private KernelAuthMap authMap;
    private Datapath datapath;
    private final LinkedBlockingQueue<AuthSignal> signals = new LinkedBlockingQueue<>();
    private AutoCloseable subscription;

    @BeforeEach
    void setUp() throws Exception {
        authMap = KernelAuthMap.openOrCreate(bpffs.resolve("auth_" + SEQ.incrementAndGet()), 1024);
        datapath = Datapath.create(authMap, TestOptions.DEFAULTS, new ClockOffset());
        datapath.putIpcache(Ipv4Prefix.host(DEATHSTAR), new IpcacheEntry(DEATHSTAR_ID, 0));
        datapath.putIpcache(Ipv4Prefix.host(UNSELECTED), new IpcacheEntry(4000, 0));
        datapath.putIpcache(Ipv4Prefix.host(TIEFIGHTER), new IpcacheEntry(TIEFIGHTER_ID, REMOTE_NODE));
        datapath.putIpcache(Ipv4Prefix.host(XWING), new IpcacheEntry(XWING_ID, REMOTE_NODE));
        datapath.putIpcache(Ipv4Prefix.host(PROBE), new IpcacheEntry(PROBE_ID, REMOTE_NODE));
        datapath.setIngressEnforced(DEATHSTAR_ID, true);
        datapath.putPolicy(new PolicyKey(DEATHSTAR_ID, TIEFIGHTER_ID, 80, PolicyKey.TCP, Direction.INGRESS),
                PolicyVerdict.allowWithAuth(AuthType.SPIRE));
        datapath.putPolicy(new PolicyKey(DEATHSTAR_ID, PROBE_ID, 80, PolicyKey.TCP, Direction.INGRESS),
                PolicyVerdict.ALLOW);
        subscription = datapath.subscribe(signals::add);
    }

    @AfterEach
    void tearDown() throws Exception {
        if (subscription != null) {
            subscription.close();
        }
        if (datapath != null) {
            datapath.close();
        }
        if (authMap != null) {
            authMap.close();
        }
    }

    private int run(byte[] frame) throws Exception {
        return datapath.testRun(frame, 1).retval();
    }

    private static final AuthKey TIE_KEY = new AuthKey(DEATHSTAR_ID, TIEFIGHTER_ID, REMOTE_NODE, AuthType.SPIRE);

    static Stream<Arguments> verdicts() {
        return Stream.of(
                Arguments.of("an endpoint no policy selects passes", Frames.tcp(XWING, UNSELECTED, 40000, 80), 0,
                        Counter.PASSED),
                Arguments.of("a selected endpoint with no matching rule drops", Frames.tcp(XWING, DEATHSTAR, 40000, 80), 2,
                        Counter.DROPPED_POLICY),
                Arguments.of("the right peer on the wrong port drops", Frames.tcp(PROBE, DEATHSTAR, 40000, 81), 2,
                        Counter.DROPPED_POLICY),
                Arguments.of("the right peer over UDP instead of TCP drops", Frames.udp(PROBE, DEATHSTAR, 40000, 80), 2,
                        Counter.DROPPED_POLICY),
                Arguments.of("an address outside the ipcache is world and drops", Frames.tcp(OUTSIDER, DEATHSTAR, 1, 80), 2,
                        Counter.DROPPED_POLICY),
                Arguments.of("a rule without auth passes", Frames.tcp(PROBE, DEATHSTAR, 40000, 80), 0, Counter.PASSED),
                Arguments.of("ARP passes", Frames.arp(), 0, Counter.PASSED),
                Arguments.of("IPv6 passes", Frames.ipv6Tcp(), 0, Counter.PASSED),
                Arguments.of("a malformed IPv4 header (IHL < 5) passes (the stack discards it)",
                        Frames.badIhl(XWING, DEATHSTAR), 0, Counter.PASSED),
                Arguments.of("TCP cut after the IP header drops at a selected endpoint (port unknown)",
                        Frames.tcpTruncatedAfterIpHeader(PROBE, DEATHSTAR), 2, Counter.DROPPED_POLICY),
                Arguments.of("TCP cut after the IP header passes at an unselected endpoint",
                        Frames.tcpTruncatedAfterIpHeader(PROBE, UNSELECTED), 0, Counter.PASSED),
                Arguments.of("a non-first fragment matches no port-specific rule", Frames.tcpFragment(PROBE, DEATHSTAR), 2,
                        Counter.DROPPED_POLICY));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("verdicts")
    void policyVerdicts(String name, byte[] frame, int verdict, Counter counted) throws Exception {
        assertThat(run(frame)).isEqualTo(verdict);
        Map<Counter, Long> c = datapath.counters();
        assertThat(c.get(counted)).isEqualTo(1);
        assertThat(c.values().stream().mapToLong(Long::longValue).sum()).isEqualTo(1);
        assertThat(signals.poll(50, TimeUnit.MILLISECONDS)).as("no auth signal for a policy verdict").isNull();
    }

    @Test
    void authRequiredWithoutEntryDropsAndSignalsOnceWithTheExactKey() throws Exception {
        assertThat(datapath.testRun(Frames.tcp(TIEFIGHTER, DEATHSTAR, 40000, 80), 5).retval()).isEqualTo(2);

        AuthSignal s = signals.poll(5, TimeUnit.SECONDS);
        assertThat(s).isNotNull();
        assertThat(s.key()).isEqualTo(TIE_KEY);
        assertThat(signals.poll(300, TimeUnit.MILLISECONDS)).as("one record per key per interval").isNull();
        Map<Counter, Long> c = datapath.counters();
        assertThat(c.get(Counter.DROPPED_AUTH)).isEqualTo(5);
        assertThat(c.get(Counter.SIGNALS_EMITTED)).isEqualTo(1);
        assertThat(c.get(Counter.SIGNALS_SUPPRESSED)).isEqualTo(4);
    }

    @Test
    void validEntryPasses() throws Exception {
        authMap.put(TIE_KEY, AuthInfo.expiringAt(Instant.now().plusSeconds(3600)));
        assertThat(run(Frames.tcp(TIEFIGHTER, DEATHSTAR, 40000, 80))).isEqualTo(0);
        assertThat(datapath.counters().get(Counter.PASSED)).isEqualTo(1);
        assertThat(signals.poll(100, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void expiredEntryDropsAndSignals() throws Exception {
        authMap.put(TIE_KEY, AuthInfo.expiringAt(Instant.now().minusSeconds(1)));
        assertThat(run(Frames.tcp(TIEFIGHTER, DEATHSTAR, 40000, 80))).isEqualTo(2);
        assertThat(signals.poll(5, TimeUnit.SECONDS)).isEqualTo(new AuthSignal(TIE_KEY));
    }

    @Test
    void entryForAnotherRemoteNodeDoesNotCount() throws Exception {
        authMap.put(new AuthKey(DEATHSTAR_ID, TIEFIGHTER_ID, REMOTE_NODE + 1, AuthType.SPIRE),
                AuthInfo.expiringAt(Instant.now().plusSeconds(3600)));
        assertThat(run(Frames.tcp(TIEFIGHTER, DEATHSTAR, 40000, 80))).isEqualTo(2);
        assertThat(datapath.counters().get(Counter.DROPPED_AUTH)).isEqualTo(1);
    }

    @Test
    void anotherSignalComesAfterTheInterval() throws Exception {
        datapath.setSignalInterval(Duration.ofMillis(50));
        run(Frames.tcp(TIEFIGHTER, DEATHSTAR, 40000, 80));
        assertThat(signals.poll(5, TimeUnit.SECONDS)).isNotNull();
        Thread.sleep(60); // the interval is kernel time; nothing here asserts on how long anything took
        run(Frames.tcp(TIEFIGHTER, DEATHSTAR, 40001, 80));
        assertThat(signals.poll(5, TimeUnit.SECONDS)).isNotNull();
        assertThat(datapath.counters().get(Counter.SIGNALS_EMITTED)).isEqualTo(2);
    }

    @Test
    void wildcardsAreTriedMostSpecificFirst() throws Exception {
        // Any port from xwing is denied, but xwing's port 443 has a specific allow: the specific entry wins.
        datapath.putPolicy(new PolicyKey(DEATHSTAR_ID, XWING_ID, PolicyKey.ANY, PolicyKey.TCP, Direction.INGRESS),
                PolicyVerdict.DENY);
        datapath.putPolicy(new PolicyKey(DEATHSTAR_ID, XWING_ID, 443, PolicyKey.TCP, Direction.INGRESS),
                PolicyVerdict.ALLOW);
        // Anyone may reach port 53/UDP.
        datapath.putPolicy(new PolicyKey(DEATHSTAR_ID, PolicyKey.ANY, 53, PolicyKey.UDP, Direction.INGRESS),
                PolicyVerdict.ALLOW);
        assertThat(run(Frames.tcp(XWING, DEATHSTAR, 1, 443))).isEqualTo(0);
        assertThat(run(Frames.tcp(XWING, DEATHSTAR, 1, 8443))).isEqualTo(2);
        assertThat(run(Frames.udp(OUTSIDER, DEATHSTAR, 1, 53))).isEqualTo(0);
        assertThat(run(Frames.udp(XWING, DEATHSTAR, 1, 53))).isEqualTo(0);
        assertThat(run(Frames.tcp(OUTSIDER, DEATHSTAR, 1, 53))).isEqualTo(2);
    }

    @Test
    void unselectingAnEndpointMakesItDefaultAllow() throws Exception {
        assertThat(run(Frames.tcp(XWING, DEATHSTAR, 1, 80))).isEqualTo(2);
        datapath.setIngressEnforced(DEATHSTAR_ID, false);
        assertThat(run(Frames.tcp(XWING, DEATHSTAR, 1, 80))).isEqualTo(0);
    }
}
