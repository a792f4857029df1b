package dev.meshauth.bpf.datapath;

import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthMapLayout;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.net.UnknownHostException;
import java.util.Arrays;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A TCP SYN the datapath dropped because its pair had no valid auth entry, handed over whole so the agent
 * can put it back once the pair is authenticated: the connection then opens within the handshake's time
 * instead of waiting for the kernel's SYN retransmit (1 s). Only SYNs are held: the rest of a connection
 * follows them, and a SYN is small.
 *
 * @param key     the pair the SYN needs
 * @param role    the program that dropped it, so where it must be put back (see {@link Role})
 * @param ifindex the interface it was seen on ({@code skb->ifindex}, in that interface's namespace)
 * @param frame   the frame from its Ethernet header on
 */
public record HeldSyn(AuthKey key, Role role, int ifindex, byte[] frame) implements DatapathSignal {
    /** Record size in bytes. */
    public static final int SIZE = (int) DatapathCodecs.HELD_SYN.byteSize();
    /** The longest frame held. */
    public static final int CAPTURE = DatapathCodecs.HELD_CAPTURE;
    private static final int KEY = DatapathCodecs.offset(DatapathCodecs.HELD_SYN, "auth");
    private static final int ROLE = DatapathCodecs.offset(DatapathCodecs.HELD_SYN, "role");
    private static final int LEN = DatapathCodecs.offset(DatapathCodecs.HELD_SYN, "len");
    private static final int IFINDEX = DatapathCodecs.offset(DatapathCodecs.HELD_SYN, "ifindex");
    private static final int FRAME = DatapathCodecs.offset(DatapathCodecs.HELD_SYN, "frame");
    private static final int ETH_HLEN = 14;

    public HeldSyn {
        frame = frame.clone();
    }

    @Override
    public byte[] frame() {
        return frame.clone();
    }

    /**
     * Parses a ring buffer record.
     *
     * @throws IllegalArgumentException for a record of another size or number, an unknown role, or a length
     *                                  outside [14, {@link #CAPTURE}]
     */
    public static HeldSyn parse(MemorySegment record) {
        if (record.byteSize() != SIZE) {
            throw new IllegalArgumentException("held SYN record must be " + SIZE + " bytes, got " + record.byteSize());
        }
        var u32 = JAVA_INT.withByteAlignment(1);
        int nr = record.get(u32, 0);
        if (nr != EnforcementProgram.SIGNAL_HELD_SYN) {
            throw new IllegalArgumentException("unexpected signal number " + nr);
        }
        int roleWire = record.get(u32, ROLE);
        Role role = Arrays.stream(Role.values()).filter(r -> r.ctBit() == roleWire).findFirst()
                .orElseThrow(() -> new IllegalArgumentException("unknown role " + roleWire + " in a held SYN"));
        int len = record.get(u32, LEN);
        if (len < ETH_HLEN || len > CAPTURE) {
            throw new IllegalArgumentException("held SYN length " + Integer.toUnsignedString(len) + " outside [" + ETH_HLEN
                    + ", " + CAPTURE + "]");
        }
        MemorySegment aligned = Arena.ofAuto().allocate(AuthMapLayout.KEY);
        aligned.copyFrom(record.asSlice(KEY, AuthMapLayout.KEY.byteSize()));
        return new HeldSyn(AuthMapLayout.KEY_CODEC.decode(aligned, 0), role, record.get(u32, IFINDEX),
                record.asSlice(FRAME, len).toArray(JAVA_BYTE));
    }

    /**
     * The local endpoint's address in the frame: the destination of what it receives (TO_ENDPOINT), the
     * source of what it sends (FROM_ENDPOINT); empty if the frame is not IPv4 or IPv6 over Ethernet.
     */
    public Optional<InetAddress> localAddress() {
        boolean dst = role == Role.TO_ENDPOINT;
        int type = frame.length >= ETH_HLEN ? ((frame[12] & 0xff) << 8) | (frame[13] & 0xff) : -1;
        int at;
        int len;
        if (type == 0x0800) {
            at = ETH_HLEN + (dst ? 16 : 12);
            len = 4;
        } else if (type == 0x86dd) {
            at = ETH_HLEN + (dst ? 24 : 8);
            len = 16;
        } else {
            return Optional.empty();
        }
        if (frame.length < at + len) {
            return Optional.empty();
        }
        try {
            return Optional.of(InetAddress.getByAddress(Arrays.copyOfRange(frame, at, at + len)));
        } catch (UnknownHostException e) {
            throw new IllegalStateException(e); // only thrown for lengths other than 4 and 16
        }
    }

    /**
     * The frame to put back: its TCP checksum computed in full. A SYN the local stack sent through a veth
     * carries only the pseudo-header sum (checksum offload, {@code CHECKSUM_PARTIAL}); put back as a plain
     * frame, the receiver would verify it and drop it. IPv6 with extension headers before TCP is returned as
     * is (the stack never offloads those SYNs here).
     */
    public byte[] reinjectable() {
        byte[] f = frame.clone();
        int type = ((f[12] & 0xff) << 8) | (f[13] & 0xff);
        int l4;
        int l4Len;
        long sum;
        if (type == 0x0800 && f.length >= ETH_HLEN + 20) {
            int ihl = (f[ETH_HLEN] & 0x0f) * 4;
            int total = ((f[ETH_HLEN + 2] & 0xff) << 8) | (f[ETH_HLEN + 3] & 0xff);
            if (f[ETH_HLEN + 9] != 6 || ihl < 20 || total > f.length - ETH_HLEN || total < ihl + 20) {
                return f;
            }
            l4 = ETH_HLEN + ihl;
            l4Len = total - ihl;
            sum = sum16(f, ETH_HLEN + 12, 8) + 6 + l4Len;
        } else if (type == 0x86dd && f.length >= ETH_HLEN + 40) {
            int payload = ((f[ETH_HLEN + 4] & 0xff) << 8) | (f[ETH_HLEN + 5] & 0xff);
            if (f[ETH_HLEN + 6] != 6 || payload > f.length - ETH_HLEN - 40 || payload < 20) {
                return f;
            }
            l4 = ETH_HLEN + 40;
            l4Len = payload;
            sum = sum16(f, ETH_HLEN + 8, 32) + 6 + l4Len;
        } else {
            return f;
        }
        f[l4 + 16] = 0;
        f[l4 + 17] = 0;
        sum += sum16(f, l4, l4Len);
        while ((sum >>> 16) != 0) {
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        int checksum = ~(int) sum & 0xffff;
        f[l4 + 16] = (byte) (checksum >>> 8);
        f[l4 + 17] = (byte) checksum;
        return f;
    }

    /** The sum of {@code len} bytes from {@code at} as big-endian 16-bit words (an odd last byte padded). */
    private static long sum16(byte[] b, int at, int len) {
        long sum = 0;
        for (int i = 0; i + 1 < len; i += 2) {
            sum += ((b[at + i] & 0xff) << 8) | (b[at + i + 1] & 0xff);
        }
        if ((len & 1) != 0) {
            sum += (b[at + len - 1] & 0xff) << 8;
        }
        return sum;
    }

    @Override
    public boolean equals(Object o) {
        return o instanceof HeldSyn h && key.equals(h.key) && role == h.role && ifindex == h.ifindex
                && Arrays.equals(frame, h.frame);
    }

    @Override
    public int hashCode() {
        return (key.hashCode() * 31 + role.hashCode()) * 31 + Arrays.hashCode(frame);
    }

    @Override
    public String toString() {
        return "HeldSyn[key=" + key + ", role=" + role + ", ifindex=" + ifindex + ", " + frame.length + " bytes]";
    }
}
