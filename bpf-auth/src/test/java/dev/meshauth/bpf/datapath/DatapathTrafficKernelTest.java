package dev.meshauth.bpf.datapath;

import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.auth.KernelAuthMap;
import dev.meshauth.bpf.link.NetNs;
import dev.meshauth.bpf.prog.BpfProgram;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import dev.meshauth.bpf.testing.TestNetwork;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.io.IOException;
import java.net.InetSocketAddress;
import java.net.ServerSocket;
import java.net.Socket;
import java.net.SocketTimeoutException;
import java.time.Instant;
import java.util.Optional;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.TimeUnit;

import static dev.meshauth.testing.Eventually.eventually;
import static org.assertj.core.api.Assertions.assertThat;

/**
 * Real packets: two namespaces joined by a veth pair, the program attached with tcx at ingress of the
 * server's end, a TCP connect from the client. The pair must be authenticated for the connect to work.
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

    /** Connects from the client namespace; true if the TCP handshake completed. */
    private static boolean connects(TestNetwork net) throws Exception {
        return NetNs.run(Optional.of(net.nsA()), () -> {
            try (Socket s = new Socket()) {
                s.connect(new InetSocketAddress(net.addrB(), PORT), CONNECT_TIMEOUT_MS);
                return true;
            } catch (SocketTimeoutException e) {
                return false; // the SYN was dropped
            }
        });
    }

    /** A listener in the server namespace that accepts (and closes) every connection. */
    private static ServerSocket acceptingServer(TestNetwork net) throws Exception {
        ServerSocket server = NetNs.run(Optional.of(net.nsB()), () -> {
            ServerSocket ss = new ServerSocket();
            ss.bind(new InetSocketAddress(net.addrB(), PORT));
            return ss;
        });
        Thread.ofVirtual().start(() -> {
            while (!server.isClosed()) {
                try (Socket ignored = server.accept()) {
                    // accepting completes the client's connect; nothing is exchanged
                } catch (IOException e) {
                    return;
                }
            }
        });
        return server;
    }

    @Test
    void tcpConnectNeedsAnAuthenticatedPair() throws Exception {
        try (TestNetwork net = TestNetwork.create("dp", 40);
                KernelAuthMap authMap = KernelAuthMap.openOrCreate(bpffs.resolve("traffic_auth"), 1024);
                Datapath datapath = Datapath.create(authMap, TestOptions.DEFAULTS, new ClockOffset());
                ServerSocket server = acceptingServer(net)) {
            datapath.putIpcache(Ipv4Prefix.host(net.addrB()), new IpcacheEntry(SERVER_ID, 0));
            datapath.putIpcache(Ipv4Prefix.host(net.addrA()), new IpcacheEntry(CLIENT_ID, CLIENT_NODE));
            datapath.setIngressEnforced(SERVER_ID, true);
            datapath.putPolicy(new PolicyKey(SERVER_ID, CLIENT_ID, PORT, PolicyKey.TCP, Direction.INGRESS),
                    PolicyVerdict.allowWithAuth(AuthType.SPIRE));
            LinkedBlockingQueue<AuthSignal> signals = new LinkedBlockingQueue<>();
            datapath.subscribe(signals::add);

            assertThat(connects(net)).as("connect before attaching: no enforcement yet").isTrue();
            datapath.attachIngress(net.ifB(), Optional.of(net.nsB()));

            assertThat(connects(net)).as("unauthenticated pair").isFalse();
            assertThat(signals.poll(5, TimeUnit.SECONDS)).isEqualTo(new AuthSignal(PAIR));

            authMap.put(PAIR, AuthInfo.expiringAt(Instant.now().plusSeconds(3600)));
            assertThat(connects(net)).as("authenticated pair").isTrue();

            authMap.delete(PAIR);
            assertThat(connects(net)).as("entry deleted").isFalse();

            Instant expiry = Instant.now().plusMillis(1500);
            authMap.put(PAIR, AuthInfo.expiringAt(expiry));
            assertThat(connects(net)).as("entry valid until " + expiry).isTrue();
            while (!Instant.now().isAfter(expiry.plusMillis(50))) {
                Thread.sleep(50);
            }
            assertThat(connects(net)).as("entry expired").isFalse();

            assertThat(datapath.counters().get(Counter.DROPPED_AUTH)).isPositive();
        }
    }

    @Test
    void closingTheDatapathDetachesTheProgram() throws Exception {
        try (TestNetwork net = TestNetwork.create("dq", 41);
                KernelAuthMap authMap = KernelAuthMap.openOrCreate(bpffs.resolve("detach_auth"), 1024);
                ServerSocket server = acceptingServer(net)) {
            int programId;
            try (Datapath datapath = Datapath.create(authMap, TestOptions.DEFAULTS, new ClockOffset())) {
                programId = datapath.programId();
                datapath.putIpcache(Ipv4Prefix.host(net.addrB()), new IpcacheEntry(SERVER_ID, 0));
                datapath.setIngressEnforced(SERVER_ID, true); // no allow entry at all: everything drops
                datapath.attachIngress(net.ifB(), Optional.of(net.nsB()));
                assertThat(connects(net)).isFalse();
                assertThat(BpfProgram.exists(programId)).isTrue();
            }
            assertThat(connects(net)).as("after close nothing is attached").isTrue();
            // The kernel frees the program after an RCU grace period: wait for it, bounded.
            eventually("program freed after close", java.time.Duration.ofSeconds(10), () -> !BpfProgram.exists(programId));
        }
    }
}
