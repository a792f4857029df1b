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

import static dev.meshauth.bpf.datapath.Role.FROM_ENDPOINT;
import static dev.meshauth.bpf.datapath.Role.TO_ENDPOINT;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * The enforcement programs against crafted frames through PROG_TEST_RUN, with real maps, the real
 * verifier, real ktime and the real ring buffer: policy verdicts per protocol and family, then what
 * connection tracking and fragment tracking let through.
 */
@KernelTest
class EnforcementProgramKernelTest {
    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();
    private static final AtomicInteger SEQ = new AtomicInteger();

    // The guide's cast: the deathstar (local, protected), a tiefighter and an xwing on node 7.
    static final String DEATHSTAR = "198.18.0.10";
    static final String DEATHSTAR6 = "2001:2::10";
    static final String TIEFIGHTER = "198.18.1.20";
    static final String XWING = "198.18.1.30";
    static final String XWING6 = "2001:2:0:1::30";
    static final String PROBE = "198.18.1.50";       // allowed without auth
    static final String PROBE6 = "2001:2:0:1::50";
    static final String UNSELECTED = "198.18.0.40";  // an endpoint no policy selects
    static final String OUTSIDER = "203.0.113.9";     // not in the ipcache: world (never sent anywhere)
    static final String ROUTER = "198.18.1.1";        // not in the ipcache either: an ICMP error's sender
    static final long DEATHSTAR_ID = 1000;
    static final long TIEFIGHTER_ID = 2000;
    static final long XWING_ID = 3000;
    static final long PROBE_ID = 5000;
    static final int REMOTE_NODE = 7;
    static final int TCP = PolicyKey.TCP;
    static final int UDP = PolicyKey.UDP;

    private KernelAuthMap authMap;
    private Datapath datapath;
    private final LinkedBlockingQueue<AuthSignal> signals = new LinkedBlockingQueue<>();
    private final LinkedBlockingQueue<HeldSyn> held = new LinkedBlockingQueue<>();
    private AutoCloseable subscription;

    @BeforeEach
    void setUp() throws Exception {
        authMap = KernelAuthMap.openOrCreate(bpffs.resolve("auth_" + SEQ.incrementAndGet()), 1024);
        datapath = Datapath.create(authMap, TestOptions.DEFAULTS, new ClockOffset());
        datapath.putIpcache(IpPrefix.host(DEATHSTAR), new IpcacheEntry(DEATHSTAR_ID, 0));
        datapath.putIpcache(IpPrefix.host(DEATHSTAR6), new IpcacheEntry(DEATHSTAR_ID, 0));
        datapath.putIpcache(IpPrefix.host(UNSELECTED), new IpcacheEntry(4000, 0));
        datapath.putIpcache(IpPrefix.host(TIEFIGHTER), new IpcacheEntry(TIEFIGHTER_ID, REMOTE_NODE));
        datapath.putIpcache(IpPrefix.host(XWING), new IpcacheEntry(XWING_ID, REMOTE_NODE));
        datapath.putIpcache(IpPrefix.host(XWING6), new IpcacheEntry(XWING_ID, REMOTE_NODE));
        datapath.putIpcache(IpPrefix.host(PROBE), new IpcacheEntry(PROBE_ID, REMOTE_NODE));
        datapath.putIpcache(IpPrefix.host(PROBE6), new IpcacheEntry(PROBE_ID, REMOTE_NODE));
        datapath.setEndpointPolicy(DEATHSTAR_ID, EndpointPolicy.ingressDefaultDeny());
        datapath.putPolicy(PolicyKey.port(DEATHSTAR_ID, TIEFIGHTER_ID, TCP, 80, Direction.INGRESS),
                PolicyVerdict.allowWithAuth(AuthType.SPIRE));
        datapath.putPolicy(PolicyKey.port(DEATHSTAR_ID, PROBE_ID, TCP, 80, Direction.INGRESS), PolicyVerdict.ALLOW);
        datapath.putPolicy(PolicyKey.port(DEATHSTAR_ID, PROBE_ID, UDP, 53, Direction.INGRESS), PolicyVerdict.ALLOW);
        datapath.putPolicy(PolicyKey.port(DEATHSTAR_ID, PROBE_ID, PolicyKey.ICMP, 8, Direction.INGRESS), PolicyVerdict.ALLOW);
        subscription = datapath.subscribe(signals::add, held::add);
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

    private int run(Role role, byte[] frame) throws Exception {
        return datapath.testRun(role, frame, 1).retval();
    }

    private int in(byte[] frame) throws Exception {
        return run(TO_ENDPOINT, frame);
    }

    private int out(byte[] frame) throws Exception {
        return run(FROM_ENDPOINT, frame);
    }

    private long counter(Counter c) throws Exception {
        return datapath.counters().get(c);
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
                Arguments.of("SCTP with no rule drops", Frames.sctp(PROBE, DEATHSTAR, 40000, 80), 2, Counter.DROPPED_POLICY),
                Arguments.of("a raw protocol (253) with no rule drops", Frames.raw(PROBE, DEATHSTAR, 253), 2,
                        Counter.DROPPED_POLICY),
                Arguments.of("ICMP echo allowed by type passes", Frames.icmp(PROBE, DEATHSTAR, 8, 7), 0, Counter.PASSED),
                Arguments.of("ICMP echo from another peer drops", Frames.icmp(XWING, DEATHSTAR, 8, 7), 2,
                        Counter.DROPPED_POLICY),
                Arguments.of("ICMP of another type drops", Frames.icmp(PROBE, DEATHSTAR, 13, 7), 2, Counter.DROPPED_POLICY),
                Arguments.of("IPv6 from the right peer passes", Frames.tcp(PROBE6, DEATHSTAR6, 40000, 80), 0, Counter.PASSED),
                Arguments.of("IPv6 from another peer drops", Frames.tcp(XWING6, DEATHSTAR6, 40000, 80), 2,
                        Counter.DROPPED_POLICY),
                Arguments.of("IPv6 behind extension headers is judged on its TCP ports",
                        Frames.ipv6TcpWithExtensionHeaders(PROBE6, DEATHSTAR6, 40000, 80), 0, Counter.PASSED),
                Arguments.of("IPv6 behind extension headers, wrong port",
                        Frames.ipv6TcpWithExtensionHeaders(PROBE6, DEATHSTAR6, 40000, 81), 2, Counter.DROPPED_POLICY),
                Arguments.of("IPv6 neighbour solicitation passes under default deny, as ARP does",
                        Frames.icmp(XWING6, DEATHSTAR6, 135, 0), 0, Counter.PASSED),
                Arguments.of("IPv6 to an address the ipcache lacks passes", Frames.tcp(PROBE6, "2001:2::99", 1, 80), 0,
                        Counter.PASSED),
                Arguments.of("ARP passes", Frames.arp(), 0, Counter.PASSED),
                Arguments.of("a malformed IPv4 header (IHL < 5) passes (the stack discards it)",
                        Frames.badIhl(XWING, DEATHSTAR), 0, Counter.PASSED),
                Arguments.of("TCP cut after the IP header drops at a selected endpoint (port unknown)",
                        Frames.tcpTruncatedAfterIpHeader(PROBE, DEATHSTAR), 2, Counter.DROPPED_POLICY),
                Arguments.of("TCP cut after the IP header passes at an unselected endpoint",
                        Frames.tcpTruncatedAfterIpHeader(PROBE, UNSELECTED), 0, Counter.PASSED),
                Arguments.of("a later fragment whose first was never seen drops", Frames.laterFragment(PROBE, DEATHSTAR, UDP, 9),
                        2, Counter.DROPPED_FRAGMENT));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("verdicts")
    void policyVerdicts(String name, byte[] frame, int verdict, Counter counted) throws Exception {
        assertThat(in(frame)).isEqualTo(verdict);
        Map<Counter, Long> c = datapath.counters();
        assertThat(c.get(counted)).isEqualTo(1);
        assertThat(c.entrySet().stream().filter(e -> e.getKey().verdict()).mapToLong(Map.Entry::getValue).sum())
                .as("one verdict per packet").isEqualTo(1);
        assertThat(signals.poll(50, TimeUnit.MILLISECONDS)).as("no auth signal for a policy verdict").isNull();
    }

    @Test
    void authRequiredWithoutEntryDropsAndSignalsOnceWithTheExactKey() throws Exception {
        assertThat(datapath.testRun(TO_ENDPOINT, Frames.tcp(TIEFIGHTER, DEATHSTAR, 40000, 80), 5).retval()).isEqualTo(2);

        AuthSignal s = signals.poll(5, TimeUnit.SECONDS);
        assertThat(s).isNotNull();
        assertThat(s.key()).isEqualTo(TIE_KEY);
        assertThat(signals.poll(300, TimeUnit.MILLISECONDS)).as("one record per key per interval").isNull();
        assertThat(counter(Counter.DROPPED_AUTH)).isEqualTo(5);
        assertThat(counter(Counter.SIGNALS_EMITTED)).isEqualTo(1);
        assertThat(counter(Counter.SIGNALS_SUPPRESSED)).isEqualTo(4);
    }

    @Test
    void everySynDroppedForAuthIsHandedOverWholeNotRateLimited() throws Exception {
        byte[] syn = Frames.tcp(TIEFIGHTER, DEATHSTAR, 40000, 80);
        assertThat(datapath.testRun(TO_ENDPOINT, syn, 3).retval()).isEqualTo(2);
        for (int i = 0; i < 3; i++) {
            HeldSyn h = held.poll(5, TimeUnit.SECONDS);
            assertThat(h).as("held SYN %d", i).isNotNull();
            assertThat(h.key()).isEqualTo(TIE_KEY);
            assertThat(h.role()).isEqualTo(TO_ENDPOINT);
            assertThat(h.frame()).as("the frame as the program saw it").isEqualTo(syn);
            assertThat(h.localAddress()).contains(java.net.InetAddress.getByName(DEATHSTAR));
        }
        assertThat(counter(Counter.SYNS_HELD)).isEqualTo(3);
        assertThat(counter(Counter.SIGNALS_EMITTED)).as("the auth signal is still rate-limited").isEqualTo(1);

        byte[] syn6 = Frames.tcp(XWING6, DEATHSTAR6, 40000, 80);
        datapath.putPolicy(PolicyKey.port(DEATHSTAR_ID, XWING_ID, TCP, 80, Direction.INGRESS),
                PolicyVerdict.allowWithAuth(AuthType.SPIRE));
        assertThat(in(syn6)).isEqualTo(2);
        HeldSyn h6 = held.poll(5, TimeUnit.SECONDS);
        assertThat(h6.frame()).isEqualTo(syn6);
        assertThat(h6.localAddress()).contains(java.net.InetAddress.getByName(DEATHSTAR6));
    }

    @Test
    void withoutHeldSynsTheSynIsOnlyDroppedAsInCilium() throws Exception {
        try (Datapath plain = Datapath.create(authMap, TestOptions.DEFAULTS.withHeldSyns(false), new ClockOffset())) {
            plain.putIpcache(IpPrefix.host(DEATHSTAR), new IpcacheEntry(DEATHSTAR_ID, 0));
            plain.putIpcache(IpPrefix.host(TIEFIGHTER), new IpcacheEntry(TIEFIGHTER_ID, REMOTE_NODE));
            plain.setEndpointPolicy(DEATHSTAR_ID, EndpointPolicy.ingressDefaultDeny());
            plain.putPolicy(PolicyKey.port(DEATHSTAR_ID, TIEFIGHTER_ID, TCP, 80, Direction.INGRESS),
                    PolicyVerdict.allowWithAuth(AuthType.SPIRE));
            LinkedBlockingQueue<HeldSyn> plainHeld = new LinkedBlockingQueue<>();
            LinkedBlockingQueue<AuthSignal> plainSignals = new LinkedBlockingQueue<>();
            try (AutoCloseable sub = plain.subscribe(plainSignals::add, plainHeld::add)) {
                assertThat(plain.testRun(TO_ENDPOINT, Frames.tcp(TIEFIGHTER, DEATHSTAR, 40000, 80), 1).retval()).isEqualTo(2);
                assertThat(plainSignals.poll(5, TimeUnit.SECONDS)).isEqualTo(new AuthSignal(TIE_KEY));
                assertThat(plainHeld.poll(100, TimeUnit.MILLISECONDS)).isNull();
                assertThat(plain.counters().get(Counter.SYNS_HELD)).isZero();
            }
        }
    }

    @Test
    void onlyASynIsHeldAndNothingThatPasses() throws Exception {
        assertThat(in(Frames.tcp(TIEFIGHTER, DEATHSTAR, 40000, 80, Frames.ACK))).isEqualTo(2);
        assertThat(in(Frames.tcp(TIEFIGHTER, DEATHSTAR, 40000, 80, Frames.SYN | Frames.ACK))).isEqualTo(2);
        assertThat(in(Frames.tcp(XWING, DEATHSTAR, 40000, 80))).as("a policy drop").isEqualTo(2);
        authMap.put(TIE_KEY, AuthInfo.expiringAt(Instant.now().plusSeconds(3600)));
        assertThat(in(Frames.tcp(TIEFIGHTER, DEATHSTAR, 40001, 80))).isEqualTo(0);
        assertThat(held.poll(100, TimeUnit.MILLISECONDS)).isNull();
        assertThat(counter(Counter.SYNS_HELD)).isZero();
        assertThat(counter(Counter.DROPPED_AUTH)).isEqualTo(2);
    }

    @Test
    void validEntryPasses() throws Exception {
        authMap.put(TIE_KEY, AuthInfo.expiringAt(Instant.now().plusSeconds(3600)));
        assertThat(in(Frames.tcp(TIEFIGHTER, DEATHSTAR, 40000, 80))).isEqualTo(0);
        assertThat(counter(Counter.PASSED)).isEqualTo(1);
        assertThat(signals.poll(100, TimeUnit.MILLISECONDS)).isNull();
    }

    @Test
    void expiredEntryDropsAndSignals() throws Exception {
        authMap.put(TIE_KEY, AuthInfo.expiringAt(Instant.now().minusSeconds(1)));
        assertThat(in(Frames.tcp(TIEFIGHTER, DEATHSTAR, 40000, 80))).isEqualTo(2);
        assertThat(signals.poll(5, TimeUnit.SECONDS)).isEqualTo(new AuthSignal(TIE_KEY));
    }

    @Test
    void entryForAnotherRemoteNodeDoesNotCount() throws Exception {
        authMap.put(new AuthKey(DEATHSTAR_ID, TIEFIGHTER_ID, REMOTE_NODE + 1, AuthType.SPIRE),
                AuthInfo.expiringAt(Instant.now().plusSeconds(3600)));
        assertThat(in(Frames.tcp(TIEFIGHTER, DEATHSTAR, 40000, 80))).isEqualTo(2);
        assertThat(counter(Counter.DROPPED_AUTH)).isEqualTo(1);
    }

    @Test
    void anotherSignalComesAfterTheInterval() throws Exception {
        datapath.setSignalInterval(Duration.ofMillis(50));
        in(Frames.tcp(TIEFIGHTER, DEATHSTAR, 40000, 80));
        assertThat(signals.poll(5, TimeUnit.SECONDS)).isNotNull();
        Thread.sleep(60); // the interval is kernel time; nothing here asserts on how long anything took
        in(Frames.tcp(TIEFIGHTER, DEATHSTAR, 40001, 80));
        assertThat(signals.poll(5, TimeUnit.SECONDS)).isNotNull();
        assertThat(counter(Counter.SIGNALS_EMITTED)).isEqualTo(2);
    }

    @Test
    void theRemotesEntriesComeFirstAndTheLongestPortPrefixWins() throws Exception {
        // xwing may reach 8080-8083 (one /14 key) but 8081 is denied (a /16 key): the longer prefix wins.
        datapath.putPolicy(new PolicyKey(DEATHSTAR_ID, XWING_ID, TCP, 8080, 14, Direction.INGRESS), PolicyVerdict.ALLOW);
        datapath.putPolicy(PolicyKey.port(DEATHSTAR_ID, XWING_ID, TCP, 8081, Direction.INGRESS), PolicyVerdict.DENY);
        // Every protocol from xwing is denied, except the keys above (longer prefixes of a protocol).
        datapath.putPolicy(PolicyKey.anyProtocol(DEATHSTAR_ID, XWING_ID, Direction.INGRESS), PolicyVerdict.DENY);
        // Anyone may reach port 53/UDP.
        datapath.putPolicy(PolicyKey.port(DEATHSTAR_ID, PolicyKey.ANY, UDP, 53, Direction.INGRESS), PolicyVerdict.ALLOW);
        assertThat(in(Frames.tcp(XWING, DEATHSTAR, 1, 8080))).isEqualTo(0);
        assertThat(in(Frames.tcp(XWING, DEATHSTAR, 2, 8083))).isEqualTo(0);
        assertThat(in(Frames.tcp(XWING, DEATHSTAR, 3, 8081))).isEqualTo(2);
        assertThat(in(Frames.tcp(XWING, DEATHSTAR, 4, 8084))).isEqualTo(2);
        assertThat(in(Frames.udp(OUTSIDER, DEATHSTAR, 5, 53))).isEqualTo(0);
        assertThat(in(Frames.udp(XWING, DEATHSTAR, 6, 53))).as("xwing's own entry (deny all) comes first").isEqualTo(2);
        assertThat(in(Frames.tcp(OUTSIDER, DEATHSTAR, 7, 53))).isEqualTo(2);
    }

    @Test
    void unselectingAnEndpointMakesItDefaultAllow() throws Exception {
        assertThat(in(Frames.tcp(XWING, DEATHSTAR, 1, 80))).isEqualTo(2);
        datapath.setEndpointPolicy(DEATHSTAR_ID, EndpointPolicy.NONE);
        assertThat(in(Frames.tcp(XWING, DEATHSTAR, 2, 80))).isEqualTo(0);
    }

    @Test
    void repliesToWhatTheEnforcedEndpointOpenedComeBack() throws Exception {
        byte[] synAck = Frames.tcp(XWING, DEATHSTAR, 443, 40000, Frames.SYN | Frames.ACK);
        assertThat(in(synAck)).as("an answer to nothing is a new packet: default deny").isEqualTo(2);

        assertThat(out(Frames.tcp(DEATHSTAR, XWING, 40000, 443))).as("no egress policy: the SYN leaves").isEqualTo(0);
        assertThat(in(synAck)).as("the SYN-ACK is a reply").isEqualTo(0);
        assertThat(in(Frames.tcp(XWING, DEATHSTAR, 443, 40000, Frames.ACK))).isEqualTo(0);
        assertThat(counter(Counter.CT_CREATED)).isEqualTo(1);
        assertThat(counter(Counter.CT_REPLY)).isEqualTo(2);
        assertThat(in(Frames.tcp(XWING, DEATHSTAR, 443, 40001, Frames.ACK))).as("another connection's port").isEqualTo(2);

        assertThat(out(Frames.udp(DEATHSTAR, XWING, 5353, 53))).isEqualTo(0);
        assertThat(in(Frames.udp(XWING, DEATHSTAR, 53, 5353))).as("the UDP answer").isEqualTo(0);

        assertThat(out(Frames.icmp(DEATHSTAR, XWING, 8, 77))).isEqualTo(0);
        assertThat(in(Frames.icmp(XWING, DEATHSTAR, 0, 77))).as("the echo reply").isEqualTo(0);
        assertThat(in(Frames.icmp(XWING, DEATHSTAR, 0, 78))).as("a reply to another echo").isEqualTo(2);

        assertThat(out(Frames.tcp(DEATHSTAR6, XWING6, 40000, 443))).isEqualTo(0);
        assertThat(in(Frames.tcp(XWING6, DEATHSTAR6, 443, 40000, Frames.SYN | Frames.ACK))).as("IPv6 too").isEqualTo(0);
    }

    @Test
    void anAllowedConnectionIsEstablishedBothWaysAndOnlyNewOnesMeetPolicy() throws Exception {
        assertThat(in(Frames.tcp(PROBE, DEATHSTAR, 40000, 80))).isEqualTo(0);
        assertThat(out(Frames.tcp(DEATHSTAR, PROBE, 80, 40000, Frames.SYN | Frames.ACK))).isEqualTo(0);
        datapath.removePolicy(PolicyKey.port(DEATHSTAR_ID, PROBE_ID, TCP, 80, Direction.INGRESS));
        assertThat(in(Frames.tcp(PROBE, DEATHSTAR, 40000, 80, Frames.ACK))).as("established").isEqualTo(0);
        assertThat(in(Frames.tcp(PROBE, DEATHSTAR, 40001, 80))).as("a new connection meets the new policy").isEqualTo(2);
        assertThat(counter(Counter.CT_ESTABLISHED)).isEqualTo(1);

        assertThat(datapath.flushConntrack()).isEqualTo(1);
        assertThat(in(Frames.tcp(PROBE, DEATHSTAR, 40000, 80, Frames.ACK))).as("judged again after a flush").isEqualTo(2);
    }

    @Test
    void egressPolicyIsEnforcedWhereTheSourceLives() throws Exception {
        datapath.setEndpointPolicy(DEATHSTAR_ID, new EndpointPolicy(PolicyMode.DEFAULT_DENY, PolicyMode.DEFAULT_DENY));
        datapath.putPolicy(PolicyKey.port(DEATHSTAR_ID, XWING_ID, TCP, 443, Direction.EGRESS), PolicyVerdict.ALLOW);
        datapath.putPolicy(PolicyKey.port(DEATHSTAR_ID, TIEFIGHTER_ID, TCP, 8443, Direction.EGRESS),
                PolicyVerdict.allowWithAuth(AuthType.SPIRE));
        assertThat(out(Frames.tcp(DEATHSTAR, XWING, 40000, 443))).isEqualTo(0);
        assertThat(out(Frames.tcp(DEATHSTAR, XWING, 40001, 444))).isEqualTo(2);
        assertThat(out(Frames.tcp(DEATHSTAR, TIEFIGHTER, 40002, 8443))).isEqualTo(2);
        assertThat(signals.poll(5, TimeUnit.SECONDS)).as("egress auth: the key of the sender's side")
                .isEqualTo(new AuthSignal(new AuthKey(DEATHSTAR_ID, TIEFIGHTER_ID, REMOTE_NODE, AuthType.SPIRE)));
        HeldSyn h = held.poll(5, TimeUnit.SECONDS);
        assertThat(h.role()).as("held where the sender's egress dropped it").isEqualTo(FROM_ENDPOINT);
        assertThat(h.localAddress()).as("the local endpoint is the source").contains(java.net.InetAddress.getByName(DEATHSTAR));
        assertThat(in(Frames.tcp(PROBE, DEATHSTAR, 40003, 80))).as("ingress still judged by ingress rules").isEqualTo(0);
        assertThat(out(Frames.tcp(DEATHSTAR, PROBE, 80, 40003, Frames.SYN | Frames.ACK)))
                .as("the reply to an allowed inbound connection leaves despite egress default deny").isEqualTo(0);
    }

    @Test
    void laterFragmentsFollowTheirFirstFragment() throws Exception {
        assertThat(in(Frames.udpFirstFragment(PROBE, DEATHSTAR, 40000, 53, 1001))).isEqualTo(0);
        assertThat(in(Frames.laterFragment(PROBE, DEATHSTAR, UDP, 1001))).as("its datagram passed").isEqualTo(0);
        assertThat(in(Frames.udpFirstFragment(PROBE, DEATHSTAR, 40000, 54, 1002))).as("port 54 is not allowed").isEqualTo(2);
        assertThat(in(Frames.laterFragment(PROBE, DEATHSTAR, UDP, 1002))).as("nor its later fragments").isEqualTo(2);
        assertThat(counter(Counter.DROPPED_FRAGMENT)).isEqualTo(1);
        assertThat(in(Frames.udpFirstFragment(PROBE6, DEATHSTAR6, 40000, 53, 70001))).isEqualTo(0);
        assertThat(in(Frames.laterFragment(PROBE6, DEATHSTAR6, UDP, 70001))).as("IPv6 fragments likewise").isEqualTo(0);
        assertThat(in(Frames.laterFragment(PROBE6, DEATHSTAR6, UDP, 70002))).isEqualTo(2);
    }

    @Test
    void icmpErrorsAboutATrackedConnectionAreRelated() throws Exception {
        byte[] syn = Frames.tcp(DEATHSTAR, XWING, 40000, 443);
        assertThat(in(Frames.icmpError(ROUTER, DEATHSTAR, syn))).as("about nothing tracked").isEqualTo(2);
        assertThat(out(syn)).isEqualTo(0);
        assertThat(in(Frames.icmpError(ROUTER, DEATHSTAR, syn))).as("about the deathstar's connection").isEqualTo(0);
        assertThat(counter(Counter.CT_RELATED)).isEqualTo(1);
        assertThat(in(Frames.icmpError(ROUTER, DEATHSTAR, Frames.tcp(DEATHSTAR, XWING, 40001, 443))))
                .as("about another connection").isEqualTo(2);
    }

    @Test
    void entriesExpireOnKernelTime() throws Exception {
        ConntrackTimeouts shortLived = new ConntrackTimeouts(Duration.ofHours(6), Duration.ofMinutes(1),
                Duration.ofSeconds(10), Duration.ofMillis(200));
        try (Datapath quick = Datapath.create(authMap, TestOptions.DEFAULTS.withConntrack(1024, shortLived),
                new ClockOffset())) {
            quick.putIpcache(IpPrefix.host(DEATHSTAR), new IpcacheEntry(DEATHSTAR_ID, 0));
            quick.putIpcache(IpPrefix.host(XWING), new IpcacheEntry(XWING_ID, REMOTE_NODE));
            quick.setEndpointPolicy(DEATHSTAR_ID, EndpointPolicy.ingressDefaultDeny());
            assertThat(quick.testRun(FROM_ENDPOINT, Frames.udp(DEATHSTAR, XWING, 5353, 53), 1).retval()).isEqualTo(0);
            assertThat(quick.testRun(TO_ENDPOINT, Frames.udp(XWING, DEATHSTAR, 53, 5353), 1).retval()).isEqualTo(0);
            Thread.sleep(400); // the timeout is kernel time; nothing here asserts on how long anything took
            assertThat(quick.testRun(TO_ENDPOINT, Frames.udp(XWING, DEATHSTAR, 53, 5353), 1).retval())
                    .as("the entry expired: a new packet, default deny").isEqualTo(2);
        }
    }
}
