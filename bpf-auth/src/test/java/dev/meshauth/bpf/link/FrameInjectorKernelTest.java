package dev.meshauth.bpf.link;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.datapath.HeldSyn;
import dev.meshauth.bpf.datapath.Role;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.TestNetwork;
import org.junit.jupiter.api.AfterAll;
import org.junit.jupiter.api.BeforeAll;
import org.junit.jupiter.api.Test;

import java.io.IOException;
import java.net.DatagramPacket;
import java.net.DatagramSocket;
import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.nio.ByteBuffer;
import java.nio.charset.StandardCharsets;
import java.util.HexFormat;
import java.util.List;
import java.util.Map;
import java.util.Optional;
import java.util.concurrent.TimeUnit;
import java.util.regex.Matcher;
import java.util.regex.Pattern;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * Frames put back at tcx hooks on a real veth pair: at ingress the stack of the receiving namespace takes
 * them as received, at egress they leave through the interface and arrive at the peer; a TCP SYN whose
 * checksum offload left only a partial sum is refused by the stack as it is, and answered once
 * {@link HeldSyn#reinjectable()} has computed it.
 */
@KernelTest
class FrameInjectorKernelTest {
    private static TestNetwork net;
    private static FrameInjector injector;
    private static byte[] macA;
    private static byte[] macB;

    @BeforeAll
    static void setUp() throws Exception {
        net = TestNetwork.create("fi", 61);
        macA = mac(net.nameA(), net.ifA());
        macB = mac(net.nameB(), net.ifB());
        injector = FrameInjector.create();
    }

    @AfterAll
    static void tearDown() throws Exception {
        if (injector != null) {
            injector.close();
        }
        if (net != null) {
            net.close();
        }
    }

    private static String run(String... cmd) throws IOException, InterruptedException {
        Process p = new ProcessBuilder(cmd).redirectErrorStream(true).start();
        String out = new String(p.getInputStream().readAllBytes(), StandardCharsets.UTF_8);
        assertThat(p.waitFor(30, TimeUnit.SECONDS) && p.exitValue() == 0).as(String.join(" ", cmd) + ": " + out).isTrue();
        return out;
    }

    private static byte[] mac(String ns, String ifname) throws Exception {
        Matcher m = Pattern.compile("link/ether ([0-9a-f:]{17})").matcher(run("ip", "-n", ns, "-o", "link", "show", ifname));
        assertThat(m.find()).isTrue();
        return HexFormat.ofDelimiter(":").parseHex(m.group(1));
    }

    /** Tcp counters of /proc/net/snmp in namespace {@code ns}. */
    private static Map<String, Long> tcpCounters(String ns) throws Exception {
        return TestNetwork.counters(ns, "/proc/net/snmp", "Tcp");
    }

    /** An IPv4 frame from a to b (Ethernet to b's MAC, header checksum computed) carrying {@code l4}. */
    private static byte[] ipv4(int proto, byte[] l4) throws Exception {
        ByteBuffer ip = ByteBuffer.allocate(20);
        ip.put((byte) 0x45).put((byte) 0).putShort((short) (20 + l4.length)).putInt(0).put((byte) 64).put((byte) proto)
                .putShort((short) 0).put(InetAddress.getByName(net.addrA()).getAddress())
                .put(InetAddress.getByName(net.addrB()).getAddress());
        byte[] h = ip.array();
        int sum = 0;
        for (int i = 0; i < 20; i += 2) {
            sum += ((h[i] & 0xff) << 8) | (h[i + 1] & 0xff);
        }
        sum = (sum & 0xffff) + (sum >>> 16);
        sum = ~((sum & 0xffff) + (sum >>> 16)) & 0xffff;
        h[10] = (byte) (sum >>> 8);
        h[11] = (byte) sum;
        return ByteBuffer.allocate(14 + 20 + l4.length).put(macB).put(macA).putShort((short) 0x0800).put(h).put(l4).array();
    }

    private static byte[] udp(int port, String payload) throws Exception {
        byte[] p = payload.getBytes(StandardCharsets.US_ASCII);
        return ipv4(17, ByteBuffer.allocate(8 + p.length).putShort((short) 40000).putShort((short) port)
                .putShort((short) (8 + p.length)).putShort((short) 0).put(p).array()); // UDP checksum 0: none (IPv4)
    }

    private static DatagramSocket udpSocketInB() throws Exception {
        return NetNs.run(Optional.of(net.nsB()), () -> {
            DatagramSocket s = new DatagramSocket(new InetSocketAddress(net.addrB(), 0));
            s.setSoTimeout(5_000);
            return s;
        });
    }

    private static String receive(DatagramSocket s) throws IOException {
        DatagramPacket p = new DatagramPacket(new byte[64], 64);
        s.receive(p);
        return new String(p.getData(), 0, p.getLength(), StandardCharsets.US_ASCII);
    }

    @Test
    void aFramePutBackAtIngressIsTakenAsReceived() throws Exception {
        try (DatagramSocket s = udpSocketInB()) {
            injector.inject(new TcxLink.Hook(net.ifB(), Optional.of(net.nsB()), TcxDirection.INGRESS), udp(s.getLocalPort(), "in"));
            assertThat(receive(s)).isEqualTo("in");
        }
    }

    @Test
    void aFramePutBackAtEgressLeavesThroughTheInterface() throws Exception {
        try (DatagramSocket s = udpSocketInB()) {
            injector.inject(new TcxLink.Hook(net.ifA(), Optional.of(net.nsA()), TcxDirection.EGRESS), udp(s.getLocalPort(), "out"));
            assertThat(receive(s)).isEqualTo("out");
        }
    }

    @Test
    void aSynWithAPartialChecksumIsAnsweredOnlyOnceItsChecksumIsComputed() throws Exception {
        try (ServerSocket listener = NetNs.run(Optional.of(net.nsB()), () -> {
            ServerSocket ss = new ServerSocket();
            ss.bind(new InetSocketAddress(net.addrB(), 0));
            return ss;
        })) {
            byte[] tcp = ByteBuffer.allocate(20).putShort((short) 40001).putShort((short) listener.getLocalPort()).putInt(1)
                    .putInt(0).put((byte) 0x50).put((byte) 0x02).putShort((short) 64240).putShort((short) 0x1234)
                    .putShort((short) 0).array();
            byte[] syn = ipv4(6, tcp);
            TcxLink.Hook hook = new TcxLink.Hook(net.ifB(), Optional.of(net.nsB()), TcxDirection.INGRESS);

            Map<String, Long> before = tcpCounters(net.nameB());
            injector.inject(hook, syn);
            Map<String, Long> afterRaw = tcpCounters(net.nameB());
            assertThat(afterRaw.get("InCsumErrors") - before.get("InCsumErrors")).as("the partial sum fails the check").isEqualTo(1);
            assertThat(afterRaw.get("OutSegs")).as("no SYN-ACK").isEqualTo(before.get("OutSegs"));

            AuthKey key = new AuthKey(1001, 1002, 2, AuthType.SPIRE);
            injector.inject(hook, new HeldSyn(key, Role.TO_ENDPOINT, 0, syn).reinjectable());
            Map<String, Long> after = tcpCounters(net.nameB());
            assertThat(after.get("InCsumErrors")).isEqualTo(afterRaw.get("InCsumErrors"));
            assertThat(after.get("OutSegs")).as("the listener answered with a SYN-ACK").isGreaterThan(afterRaw.get("OutSegs"));
        }
    }

    @Test
    void anInterfaceThatIsGoneIsAClearError() {
        assertThatThrownBy(() -> injector.inject(new TcxLink.Hook("ma-nosuch0", Optional.of(net.nsB()), TcxDirection.INGRESS),
                new byte[60]))
                .isInstanceOf(BpfException.class).hasMessageContaining("ma-nosuch0").hasMessageContaining("ENODEV");
        assertThatThrownBy(() -> injector.inject(new TcxLink.Hook(net.ifB(), Optional.of(net.nsB()), TcxDirection.INGRESS),
                new byte[10])).hasMessageContaining("no Ethernet header");
    }
}
