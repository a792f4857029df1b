package dev.meshauth.bpf.link;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.asm.Assembler;
import dev.meshauth.bpf.asm.Reg;
import dev.meshauth.bpf.prog.BpfProgram;
import dev.meshauth.bpf.prog.ProgramType;
import dev.meshauth.bpf.sys.Fd;
import dev.meshauth.bpf.sys.Native;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Map;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;

/**
 * Puts a frame back at a tcx hook, so that the programs attached there judge it again: at an ingress hook
 * as if the interface had received it (a live XDP frame the one-instruction program passes, which then
 * enters the stack through tc ingress), at an egress hook as if the host had sent it ({@code AF_PACKET},
 * which goes out through tc egress). Both run in the interface's network namespace.
 */
public final class FrameInjector implements AutoCloseable {
    private static final int XDP_PASS = 2;
    private static final int AF_PACKET = 17;
    private static final int SOCK_RAW = 3;
    private static final int SOCK_CLOEXEC = 0x80000;
    /** {@code struct sockaddr_ll}: family, protocol (be16), ifindex, hatype, pkttype, halen, addr[8]. */
    private static final int SOCKADDR_LL_SIZE = 20;
    private static final int ETH_HLEN = 14;

    private final BpfProgram pass;

    private FrameInjector(BpfProgram pass) {
        this.pass = pass;
    }

    /**
     * Loads the XDP program that passes every frame.
     *
     * @throws BpfException if the kernel refuses it
     */
    public static FrameInjector create() throws BpfException {
        return new FrameInjector(BpfProgram.load("meshauth_inject", ProgramType.XDP,
                new Assembler().mov(Reg.R0, XDP_PASS).exit().build(), Map.of()));
    }

    /**
     * Puts {@code frame} (from its Ethernet header on) back at {@code hook}.
     *
     * @throws BpfException if the interface is gone, the namespace cannot be entered, or the kernel refuses
     */
    public void inject(TcxLink.Hook hook, byte[] frame) throws BpfException {
        if (frame.length < ETH_HLEN) {
            throw new IllegalArgumentException("a frame of " + frame.length + " bytes has no Ethernet header");
        }
        NetNs.run(hook.netns(), () -> {
            int ifindex = NetNs.ifindex(hook.ifname());
            switch (hook.direction()) {
                case INGRESS -> pass.runLive(frame, ifindex);
                case EGRESS -> send(ifindex, frame, hook.ifname());
            }
            return null;
        });
    }

    private static void send(int ifindex, byte[] frame, String ifname) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = Native.allocateCapture(arena);
            int fd = Native.socket(capture, AF_PACKET, SOCK_RAW | SOCK_CLOEXEC, 0); // protocol 0: sends, receives nothing
            if (fd < 0) {
                throw BpfException.syscall("socket(AF_PACKET)", "interface " + ifname, Native.errno(capture));
            }
            try (Fd socket = new Fd(fd)) {
                MemorySegment addr = arena.allocate(SOCKADDR_LL_SIZE, 4);
                addr.set(JAVA_SHORT, 0, (short) AF_PACKET);
                addr.set(JAVA_BYTE, 2, frame[12]); // the frame's EtherType, already in network order
                addr.set(JAVA_BYTE, 3, frame[13]);
                addr.set(JAVA_INT, 4, ifindex);
                MemorySegment buf = arena.allocate(frame.length);
                MemorySegment.copy(frame, 0, buf, JAVA_BYTE, 0, frame.length);
                long sent = Native.sendto(capture, socket.get(), buf, frame.length, 0, addr, SOCKADDR_LL_SIZE);
                if (sent < 0) {
                    throw BpfException.syscall("sendto(AF_PACKET)", "interface " + ifname, Native.errno(capture));
                }
                if (sent != frame.length) {
                    throw BpfException.of("sendto(AF_PACKET)", "interface " + ifname, "sent " + sent + " of " + frame.length
                            + " bytes");
                }
            }
        }
    }

    /** Unloads the program. */
    @Override
    public void close() {
        pass.close();
    }
}
