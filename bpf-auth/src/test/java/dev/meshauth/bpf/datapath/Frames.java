package dev.meshauth.bpf.datapath;

import java.nio.ByteBuffer;
import java.nio.ByteOrder;

/**
 * Builds Ethernet frames for PROG_TEST_RUN: IPv4 and IPv6 with TCP, UDP, SCTP, ICMP, raw protocols,
 * fragments, extension headers, ICMP errors quoting a packet; ARP; truncated and malformed headers.
 */
public final class Frames {
    public static final int SYN = 0x02;
    public static final int ACK = 0x10;
    public static final int FIN = 0x01;
    public static final int RST = 0x04;

    private Frames() {
    }

    public static byte[] tcp(String src, String dst, int sport, int dport) {
        return tcp(src, dst, sport, dport, SYN);
    }

    public static byte[] tcp(String src, String dst, int sport, int dport, int flags) {
        return ip(src, dst, 6, tcpHeader(sport, dport, flags));
    }

    public static byte[] udp(String src, String dst, int sport, int dport) {
        return ip(src, dst, 17, ports(sport, dport, 8));
    }

    public static byte[] sctp(String src, String dst, int sport, int dport) {
        return ip(src, dst, 132, ports(sport, dport, 12));
    }

    /** A packet of a protocol without ports (e.g. 253, experimental). */
    public static byte[] raw(String src, String dst, int proto) {
        return ip(src, dst, proto, new byte[8]);
    }

    /** ICMP (IPv4) or ICMPv6 (IPv6) of {@code type}, with identifier {@code id}. */
    public static byte[] icmp(String src, String dst, int type, int id) {
        boolean v6 = src.contains(":");
        ByteBuffer b = ByteBuffer.allocate(8).order(ByteOrder.BIG_ENDIAN);
        b.put((byte) type).put((byte) 0).putShort((short) 0).putShort((short) id).putShort((short) 1);
        return ip(src, dst, v6 ? 58 : 1, b.array());
    }

    /** An ICMP error (IPv4 type 3 / ICMPv6 type 1) from {@code src} to {@code dst} quoting {@code quoted}'s IP packet. */
    public static byte[] icmpError(String src, String dst, byte[] quoted) {
        boolean v6 = src.contains(":");
        int quote = Math.min(quoted.length - 14, v6 ? 48 : 28);
        ByteBuffer b = ByteBuffer.allocate(8 + quote).order(ByteOrder.BIG_ENDIAN);
        b.put((byte) (v6 ? 1 : 3)).put((byte) 1).putShort((short) 0).putInt(0);
        b.put(quoted, 14, quote);
        return ip(src, dst, v6 ? 58 : 1, b.array());
    }

    /** The first fragment of a UDP datagram (more fragments follow), with identification {@code id}. */
    public static byte[] udpFirstFragment(String src, String dst, int sport, int dport, int id) {
        return fragment(src, dst, 17, id, 0, true, ports(sport, dport, 8));
    }

    /** A later fragment (offset 185 * 8 bytes, the last) of datagram {@code id}: no L4 header. */
    public static byte[] laterFragment(String src, String dst, int proto, int id) {
        return fragment(src, dst, proto, id, 185, false, new byte[40]);
    }

    /** An IPv4 TCP packet cut right after the IP header. */
    public static byte[] tcpTruncatedAfterIpHeader(String src, String dst) {
        return ipv4(src, dst, 6, 0, 0, false, new byte[0]);
    }

    /** An IPv4 TCP packet whose IHL claims 4 words (16 bytes), below the minimum of 5. */
    public static byte[] badIhl(String src, String dst) {
        byte[] f = tcp(src, dst, 1, 80);
        f[14] = 0x44;
        return f;
    }

    /** IPv6 TCP behind a hop-by-hop and a destination options header. */
    public static byte[] ipv6TcpWithExtensionHeaders(String src, String dst, int sport, int dport) {
        byte[] tcp = tcpHeader(sport, dport, SYN);
        ByteBuffer ext = ByteBuffer.allocate(16 + tcp.length).order(ByteOrder.BIG_ENDIAN);
        ext.put((byte) 60).put((byte) 0).put(new byte[6]); // hop-by-hop: next dstopts, 8 bytes
        ext.put((byte) 6).put((byte) 0).put(new byte[6]);  // dstopts: next TCP, 8 bytes
        ext.put(tcp);
        return ipv6(src, dst, 0, ext.array());
    }

    public static byte[] arp() {
        ByteBuffer b = ByteBuffer.allocate(42).order(ByteOrder.BIG_ENDIAN);
        eth(b, 0x0806);
        b.putShort((short) 1).putShort((short) 0x0800).put((byte) 6).put((byte) 4).putShort((short) 1);
        return b.array();
    }

    private static byte[] tcpHeader(int sport, int dport, int flags) {
        ByteBuffer b = ByteBuffer.allocate(20).order(ByteOrder.BIG_ENDIAN);
        b.putShort((short) sport).putShort((short) dport).putInt(1).putInt(0).put((byte) 0x50).put((byte) flags);
        return b.array();
    }

    private static byte[] ports(int sport, int dport, int len) {
        ByteBuffer b = ByteBuffer.allocate(len).order(ByteOrder.BIG_ENDIAN);
        b.putShort((short) sport).putShort((short) dport).putShort((short) len);
        return b.array();
    }

    private static byte[] ip(String src, String dst, int proto, byte[] payload) {
        return src.contains(":") ? ipv6(src, dst, proto, payload) : ipv4(src, dst, proto, 0, 1, false, payload);
    }

    private static byte[] fragment(String src, String dst, int proto, int id, int offset8, boolean more, byte[] payload) {
        if (!src.contains(":")) {
            return ipv4(src, dst, proto, offset8, id, more, payload);
        }
        ByteBuffer f = ByteBuffer.allocate(8 + payload.length).order(ByteOrder.BIG_ENDIAN);
        f.put((byte) proto).put((byte) 0).putShort((short) (offset8 << 3 | (more ? 1 : 0))).putInt(id).put(payload);
        return ipv6(src, dst, 44, f.array());
    }

    private static byte[] ipv4(String src, String dst, int proto, int offset8, int id, boolean more, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(14 + 20 + payload.length).order(ByteOrder.BIG_ENDIAN);
        eth(b, 0x0800);
        b.put((byte) 0x45).put((byte) 0).putShort((short) (20 + payload.length));
        b.putShort((short) id).putShort((short) ((more ? 0x2000 : 0) | (offset8 & 0x1fff))).put((byte) 64).put((byte) proto);
        b.putShort((short) 0);
        b.put(IpPrefix.host(src).address()).put(IpPrefix.host(dst).address());
        b.put(payload);
        return b.array();
    }

    private static byte[] ipv6(String src, String dst, int nextHeader, byte[] payload) {
        ByteBuffer b = ByteBuffer.allocate(14 + 40 + payload.length).order(ByteOrder.BIG_ENDIAN);
        eth(b, 0x86dd);
        b.putInt(0x60000000).putShort((short) payload.length).put((byte) nextHeader).put((byte) 64);
        b.put(IpPrefix.host(src).address()).put(IpPrefix.host(dst).address());
        b.put(payload);
        return b.array();
    }

    private static void eth(ByteBuffer b, int ethertype) {
        b.put(new byte[] {2, 0, 0, 0, 0, 1}).put(new byte[] {2, 0, 0, 0, 0, 2}).putShort((short) ethertype);
    }
}
