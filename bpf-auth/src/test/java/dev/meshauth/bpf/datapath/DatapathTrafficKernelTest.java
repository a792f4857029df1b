package dev.meshauth.bpf.datapath;

import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.auth.KernelAuthMap;
import dev.meshauth.bpf.link.NetNs;
import dev.meshauth.bpf.prog.BpfProgram;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.NetProbe;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import dev.meshauth.bpf.testing.TestNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.io.InputStream;
import java.io.OutputStream;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.nio.file.Path;
import java.time.Instant;
import java.util.Arrays;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real packets: two namespaces joined by a veth pair; b is the protected endpoint ("the deathstar"), its
 * programs attached with tcx on its own interface both ways; a is a remote peer. TCP both ways, UDP
 * datagrams that fragment, ICMP echo, a raw IP protocol, IPv6, egress policy.
 */
@KernelTest
class DatapathTrafficKernelTest {
    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();

    private static final long SERVER_ID = 1000;
    private static final long CLIENT_ID = 2000;
    private static final int CLIENT_NODE = 7;
    private static final int PORT = 8080;
    private static final int CONNECT_TIMEOUT_MS = 1000;
    private static final AuthKey PAIR = new AuthKey(SERVER_ID, CLIENT_ID, CLIENT_NODE, AuthType.SPIRE);

    /** The network, a datapath knowing both ends, b's ingress default-deny, attached to b. */
    private record Setup(TestNetwork net, KernelAuthMap authMap, Datapath dp) implements AutoCloseable {
        static Setup create(String tag, int subnet) throws Exception {
            TestNetwork net = TestNetwork.create(tag, subnet);
            KernelAuthMap auth = null;
            Datapath dp = null;
            try {
                auth = KernelAuthMap.openOrCreate(bpffs.resolve(tag + "_auth"), 1024);
                dp = Datapath.create(auth, TestOptions.DEFAULTS, new ClockOffset());
                for (String b : new String[] {net.addrB(), net.addrB6()}) {
                    dp.putIpcache(IpPrefix.host(b), new IpcacheEntry(SERVER_ID, 0));
                }
                for (String a : new String[] {net.addrA(), net.addrA6()}) {
                    dp.putIpcache(IpPrefix.host(a), new IpcacheEntry(CLIENT_ID, CLIENT_NODE));
                }
                dp.setEndpointPolicy(SERVER_ID, EndpointPolicy.ingressDefaultDeny());
                dp.attachToEndpoint(net.ifB(), Optional.of(net.nsB()));
                return new Setup(net, auth, dp);
            } catch (Exception | Error e) {
                if (dp != null) {
                    dp.close();
                }
                if (auth != null) {
                    auth.close();
                }
                net.close();
                throw e;
            }
        }

        void allowIngress(int protocol, int port) throws Exception {
            dp.putPolicy(PolicyKey.port(SERVER_ID, CLIENT_ID, protocol, port, Direction.INGRESS), PolicyVerdict.ALLOW);
        }

        @Override
        public void close() throws Exception {
            try {
                dp.close();
                authMap.close();
            } finally {
                net.close();
            }
        }
    }

    /** Connects from {@code fromNs} to {@code host:port}; true if the TCP handshake completed. */
    private static boolean connects(Path fromNs, String host, int port) throws Exception {
        return NetNs.run(Optional.of(fromNs), () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
                return true;
            } catch (SocketTimeoutException e) {
                return false; // the SYN (or its answer) was dropped
            }
        });
    }

    /** A listener in {@code ns} that echoes whatever each connection sends. */
    private static ServerSocket echoServer(Path ns, String host, int port) throws Exception {
        ServerSocket server = NetNs.run(Optional.of(ns), () -> {
            ServerSocket ss = new ServerSocket();
            ss.bind(new InetSocketAddress(host, port));
            return ss;
        });
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try (Socket s = server.accept()) {
                    s.getInputStream().transferTo(s.getOutputStream());
                } catch (IOException e) {
                    if (server.isClosed()) {
                        return;
                    }
                }
            }
        });
        return server;
    }

    /** Sends 10,000 bytes each way over one connection: established traffic in both directions. */
    private static boolean echoes(Path fromNs, String host, int port) throws Exception {
        return NetNs.run(Optional.of(fromNs), () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(host, port), CONNECT_TIMEOUT_MS);
                s.setSoTimeout(3000);
                byte[] data = new byte[10_000];
                Arrays.fill(data, (byte) 42);
                OutputStream out = s.getOutputStream();
                out.write(data);
                s.shutdownOutput();
                InputStream in = s.getInputStream();
                return Arrays.equals(in.readAllBytes(), data);
            } catch (SocketTimeoutException e) {
                return false;
            }
        });
    }

    @Test
    void tcpConnectNeedsAnAuthenticatedPair() throws Exception {
        try (Setup s = Setup.create("dp", 40); ServerSocket server = echoServer(s.net().nsB(), s.net().addrB(), PORT)) {
            s.dp().putPolicy(PolicyKey.port(SERVER_ID, CLIENT_ID, PolicyKey.TCP, PORT, Direction.INGRESS),
                    PolicyVerdict.allowWithAuth(AuthType.SPIRE));
            LinkedBlockingQueue<AuthSignal> signals = new LinkedBlockingQueue<>();
            s.dp().subscribe(signals::add);

            assertThat(connects(s.net().nsA(), s.net().addrB(), PORT)).as("unauthenticated pair").isFalse();
            assertThat(signals.poll(5, TimeUnit.SECONDS)).isEqualTo(new AuthSignal(PAIR));

            s.authMap().put(PAIR, AuthInfo.expiringAt(Instant.now().plusSeconds(3600)));
            assertThat(connects(s.net().nsA(), s.net().addrB(), PORT)).as("authenticated pair").isTrue();

            s.authMap().delete(PAIR);
            assertThat(connects(s.net().nsA(), s.net().addrB(), PORT)).as("entry deleted").isFalse();

            Instant expiry = Instant.now().plusMillis(1500);
            s.authMap().put(PAIR, AuthInfo.expiringAt(expiry));
            assertThat(connects(s.net().nsA(), s.net().addrB(), PORT)).as("entry valid until " + expiry).isTrue();
            while (!Instant.now().isAfter(expiry.plusMillis(50))) {
                Thread.sleep(50);
            }
            assertThat(connects(s.net().nsA(), s.net().addrB(), PORT)).as("entry expired").isFalse();
            assertThat(s.dp().counters().get(Counter.DROPPED_AUTH)).isPositive();
        }
    }

    @Test
    void tcpWorksBothWaysAndTheProtectedEndpointCanCallOut() throws Exception {
        try (Setup s = Setup.create("dt", 42);
                ServerSocket inbound = echoServer(s.net().nsB(), s.net().addrB(), PORT);
                ServerSocket outbound = echoServer(s.net().nsA(), s.net().addrA(), PORT + 1)) {
            assertThat(echoes(s.net().nsA(), s.net().addrB(), PORT)).as("no rule yet").isFalse();
            s.allowIngress(PolicyKey.TCP, PORT);
            assertThat(echoes(s.net().nsA(), s.net().addrB(), PORT)).as("allowed inbound, data both ways").isTrue();
            assertThat(connects(s.net().nsA(), s.net().addrB(), PORT + 2)).as("another port").isFalse();
            assertThat(echoes(s.net().nsB(), s.net().addrA(), PORT + 1))
                    .as("the deathstar calls out: its answers pass its ingress default deny").isTrue();
            assertThat(s.dp().counters().get(Counter.CT_REPLY)).isPositive();
            assertThat(s.dp().counters().get(Counter.CT_ESTABLISHED)).isPositive();
        }
    }

    @Test
    void udpDatagramsThatFragmentArriveWholeOnAnAllowedPortAndNotOtherwise() throws Exception {
        try (Setup s = Setup.create("du", 43)) {
            s.allowIngress(PolicyKey.UDP, PORT);
            byte[] big = new byte[3000]; // over the 1500-byte MTU: IPv4 fragments
            Arrays.fill(big, (byte) 7);
            try (DatagramSocket server = NetNs.run(Optional.of(s.net().nsB()), () -> new DatagramSocket(
                    new InetSocketAddress(s.net().addrB(), PORT)));
                    DatagramSocket other = NetNs.run(Optional.of(s.net().nsB()), () -> new DatagramSocket(
                            new InetSocketAddress(s.net().addrB(), PORT + 1)));
                    DatagramSocket client = NetNs.run(Optional.of(s.net().nsA()), () -> new DatagramSocket(
                            new InetSocketAddress(s.net().addrA(), 0)))) {
                server.setSoTimeout(2000);
                other.setSoTimeout(1000);
                client.setSoTimeout(2000);
                client.send(new DatagramPacket(big, big.length, new InetSocketAddress(s.net().addrB(), PORT)));
                DatagramPacket got = new DatagramPacket(new byte[4000], 4000);
                server.receive(got);
                assertThat(got.getLength()).as("every fragment passed").isEqualTo(3000);

                server.send(new DatagramPacket(big, big.length, got.getSocketAddress()));
                DatagramPacket answer = new DatagramPacket(new byte[4000], 4000);
                client.receive(answer);
                assertThat(answer.getLength()).as("the answer, fragmented too, comes back").isEqualTo(3000);

                client.send(new DatagramPacket(big, big.length, new InetSocketAddress(s.net().addrB(), PORT + 1)));
                DatagramPacket none = new DatagramPacket(new byte[4000], 4000);
                org.assertj.core.api.Assertions.assertThatThrownBy(() -> other.receive(none))
                        .as("a port no rule allows").isInstanceOf(SocketTimeoutException.class);
                assertThat(s.dp().counters().get(Counter.DROPPED_FRAGMENT)).as("its later fragments too").isPositive();
            }
        }
    }

    @Test
    void icmpAndRawProtocolsMeetDefaultDenyToo() throws Exception {
        try (Setup s = Setup.create("di", 44)) {
            String a = s.net().nameA();
            String b = s.net().nameB();
            assertThat(NetProbe.ping(a, s.net().addrB())).as("echo under default deny").isFalse();
            assertThat(NetProbe.rawDelivered(a, b, s.net().addrB(), 253)).as("protocol 253 under default deny").isFalse();
            assertThat(NetProbe.ping(b, s.net().addrA())).as("the deathstar's own echo is answered").isTrue();

            s.allowIngress(PolicyKey.ICMP, 8);
            assertThat(NetProbe.ping(a, s.net().addrB())).as("echo requests allowed by type").isTrue();
            assertThat(NetProbe.rawDelivered(a, b, s.net().addrB(), 253)).isFalse();

            s.dp().putPolicy(PolicyKey.anyProtocol(SERVER_ID, CLIENT_ID, Direction.INGRESS), PolicyVerdict.ALLOW);
            assertThat(NetProbe.rawDelivered(a, b, s.net().addrB(), 253)).as("an L3 rule admits every protocol").isTrue();
        }
    }

    @Test
    void ipv6IsEnforcedAsIpv4() throws Exception {
        try (Setup s = Setup.create("d6", 45);
                ServerSocket inbound = echoServer(s.net().nsB(), s.net().addrB6(), PORT);
                ServerSocket outbound = echoServer(s.net().nsA(), s.net().addrA6(), PORT + 1)) {
            assertThat(connects(s.net().nsA(), s.net().addrB6(), PORT)).as("no rule").isFalse();
            s.allowIngress(PolicyKey.TCP, PORT);
            assertThat(echoes(s.net().nsA(), s.net().addrB6(), PORT)).isTrue();
            assertThat(echoes(s.net().nsB(), s.net().addrA6(), PORT + 1)).as("calling out over IPv6").isTrue();
            assertThat(NetProbe.ping(s.net().nameA(), s.net().addrB6())).as("ICMPv6 echo, no rule").isFalse();
            s.allowIngress(PolicyKey.ICMPV6, 128);
            assertThat(NetProbe.ping(s.net().nameA(), s.net().addrB6())).isTrue();
        }
    }

    @Test
    void egressPolicyIsEnforcedAtTheSource() throws Exception {
        try (Setup s = Setup.create("de", 46);
                ServerSocket allowed = echoServer(s.net().nsA(), s.net().addrA(), PORT);
                ServerSocket denied = echoServer(s.net().nsA(), s.net().addrA(), PORT + 1)) {
            s.dp().setEndpointPolicy(SERVER_ID, new EndpointPolicy(PolicyMode.DEFAULT_DENY, PolicyMode.DEFAULT_DENY));
            s.dp().putPolicy(PolicyKey.port(SERVER_ID, CLIENT_ID, PolicyKey.TCP, PORT, Direction.EGRESS), PolicyVerdict.ALLOW);
            assertThat(echoes(s.net().nsB(), s.net().addrA(), PORT)).isTrue();
            assertThat(connects(s.net().nsB(), s.net().addrA(), PORT + 1)).as("no egress rule").isFalse();
        }
    }

    @Test
    void closingTheDatapathDetachesThePrograms() throws Exception {
        try (TestNetwork net = TestNetwork.create("dq", 41);
                KernelAuthMap authMap = KernelAuthMap.openOrCreate(bpffs.resolve("detach_auth"), 1024);
                ServerSocket server = echoServer(net.nsB(), net.addrB(), PORT)) {
            int to;
            int from;
            try (Datapath datapath = Datapath.create(authMap, TestOptions.DEFAULTS, new ClockOffset())) {
                to = datapath.programId(Role.TO_ENDPOINT);
                from = datapath.programId(Role.FROM_ENDPOINT);
                datapath.putIpcache(IpPrefix.host(net.addrB()), new IpcacheEntry(SERVER_ID, 0));
                datapath.setEndpointPolicy(SERVER_ID, EndpointPolicy.ingressDefaultDeny()); // no allow: all drop
                datapath.attachToEndpoint(net.ifB(), Optional.of(net.nsB()));
                assertThat(connects(net.nsA(), net.addrB(), PORT)).isFalse();
                assertThat(BpfProgram.exists(to)).isTrue();
                assertThat(BpfProgram.exists(from)).isTrue();
            }
            assertThat(connects(net.nsA(), net.addrB(), PORT)).as("after close nothing is attached").isTrue();
            // The kernel frees the programs after an RCU grace period: wait for it, bounded.
            eventually("programs freed after close", java.time.Duration.ofSeconds(10),
                    () -> !BpfProgram.exists(to) && !BpfProgram.exists(from));
        }
    }
}
