package dev.meshauth.bpf.datapath;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/** Builds Ethernet frames for PROG_TEST_RUN: IPv4 TCP/UDP, ARP, IPv6, truncated and fragmented. */
public final class Frames {
    private Frames() {
    }

    public static byte[] tcp(String src, String dst, int sport, int dport) {
        return ipv4(src, dst, 6, 0, l4(sport, dport, 20));
    }

    public static byte[] udp(String src, String dst, int sport, int dport) {
        return ipv4(src, dst, 17, 0, l4(sport, dport, 8));
    }

    /** A non-first IPv4 fragment (offset 185 * 8 bytes): it carries no L4 header. */
    public static byte[] tcpFragment(String src, String dst) {
        return ipv4(src, dst, 6, 185, new byte[40]);
    }

    /** An IPv4 TCP packet cut right after the IP header. */
    public static byte[] tcpTruncatedAfterIpHeader(String src, String dst) {
        return ipv4(src, dst, 6, 0, new byte[0]);
    }

    /** An IPv4 TCP packet whose IHL claims 4 words (16 bytes), below the minimum of 5. */
    public static byte[] badIhl(String src, String dst) {
        byte[] f = tcp(src, dst, 1, 80);
        f[14] = 0x44;
        return f;
    }

    public static byte[] arp() {
        ByteBuffer b = ByteBuffer.allocate(42).order(ByteOrder.BIG_ENDIAN);
        eth(b, 0x0806);
        b.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 1);
        return b.array();
    }

    public static byte[] ipv6Tcp() {
        ByteBuffer b = ByteBuffer.allocate(14 + 40 + 20).order(ByteOrder.BIG_ENDIAN);
        eth(b, 0x86dd);
        b.putInt(0x60000000).putShort((short) 20).put((byte) 6).put((byte) 64);
        b.put(new byte[32]);
        b.putShort((short) 1234).putShort((short) 80);
        return b.array();
    }

    private static byte[] l4(int sport, int dport, int len) {
        ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.BIG_ENDIAN);
        b.putShort((short) sport).putShort((short) dport);
        if (len == 20) {
            b.putInt(1).putInt(0).put((byte) 0x50).put((byte) 0x02); // data offset 5, SYN
        } else {
            b.putShort((short) len);
        }
        return b.array();
    }

    private static byte[] ipv4(String src, String dst, int proto, int fragOffset, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + payload.length).order(ByteOrder.BIG_ENDIAN);
        eth(b, 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + payload.length));
        b.putShort((short) 1).putShort((short) (fragOffset & 0x1fff)).put((byte) 64).put((byte) proto);
        b.putShort((short) 0);
        b.putInt(Ipv4Prefix.host(src).address()).putInt(Ipv4Prefix.host(dst).address());
        b.put(payload);
        return b.array();
    }

    private static void eth(ByteBuffer b, int ethertype) {
        b.put(new byte[] {2, 0, 0, 0, 0, 1}).put(new byte[] {2, 0, 0, 0, 0, 2}).putShort((short) ethertype);
    }
}
