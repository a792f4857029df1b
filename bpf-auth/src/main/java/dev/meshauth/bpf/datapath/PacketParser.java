package dev.meshauth.bpf.datapath;

import dev.meshauth.bpf.asm.AluOp;
import dev.meshauth.bpf.asm.Assembler;
import dev.meshauth.bpf.asm.JmpOp;
import dev.meshauth.bpf.asm.Size;

import java.util.List;

import static dev.meshauth.bpf.asm.Reg.R0;
import static dev.meshauth.bpf.asm.Reg.R1;
import static dev.meshauth.bpf.asm.Reg.R10;
import static dev.meshauth.bpf.asm.Reg.R2;
import static dev.meshauth.bpf.asm.Reg.R6;
import static dev.meshauth.bpf.asm.Reg.R7;
import static dev.meshauth.bpf.asm.Reg.R8;

/**
 * Reads a packet into the frame: the tuple (FLOW), the port or ICMP type the policy matches, TCP flags,
 * fragment state. IPv4 with options, IPv6 with up to four extension headers (hop-by-hop, routing,
 * destination options, AH, fragment). A non-first fragment gets its ports from the fragment map, as
 * Cilium's does. What it cannot read is marked (TRUNCATED, FRAG_UNKNOWN), never guessed: policy decides
 * what that means. Jumps to {@code pass} for what is not IP (ARP) or not well-formed IP (the stack drops it),
 * and for IPv6 neighbour discovery and multicast listener messages, IPv6's ARP.
 */
final class PacketParser {
    static final int ETH_HLEN = 14;
    private static final int SKB_PROTOCOL = 16; // offsetof(struct __sk_buff, protocol), network order
    private static final int ETH_P_IP_BE = 0x0008; // htons(0x0800) read as a little-endian u32
    private static final int ETH_P_IPV6_BE = 0xDD86; // htons(0x86DD)
    private static final int IPV6_HLEN = 40;
    private static final int MAX_EXT_HEADERS = 4;
    // IPv6 extension headers (IANA protocol numbers).
    private static final int HOPOPTS = 0;
    private static final int ROUTING = 43;
    private static final int FRAGMENT = 44;
    private static final int AH = 51;
    private static final int DSTOPTS = 60;
    // ICMP types with a special meaning for conntrack.
    private static final int ICMP_ECHO_REPLY = 0;
    private static final int ICMP_ECHO = 8;
    private static final int[] ICMP_ERRORS = {3, 4, 5, 11, 12};
    private static final int ICMPV6_ECHO = 128;
    private static final int ICMPV6_ECHO_REPLY = 129;
    private static final int[] ICMPV6_ERRORS = {1, 2, 3, 4};

    private PacketParser() {
    }

    /** Emits the parse; continues at {@code next} with the frame filled, or jumps to {@code pass}. */
    static void emit(Emit e, String next, String pass) {
        Assembler a = e.a;
        a.ldx(Size.W, R0, R6, SKB_PROTOCOL);
        a.jmp(JmpOp.JEQ, R0, ETH_P_IP_BE, "ipv4").jmp(JmpOp.JEQ, R0, ETH_P_IPV6_BE, "ipv6").ja(pass);
        ipv4(e, pass);
        ipv6(e, pass);
        l4(e, next, pass);
    }

    private static void ipv4(Emit e, String pass) {
        Assembler a = e.a;
        a.label("ipv4");
        e.loadBytes(ETH_HLEN, Frame.HDR, 20);
        a.jmp(JmpOp.JNE, R0, 0, pass);
        a.ldx(Size.B, R1, R10, Frame.HDR).mov(R2, R1).alu(AluOp.RSH, R2, 4).jmp(JmpOp.JNE, R2, 4, pass);
        a.alu(AluOp.AND, R1, 0x0f).jmp(JmpOp.JLT, R1, 5, pass).alu(AluOp.LSH, R1, 2).add(R1, ETH_HLEN);
        a.stx(Size.W, R10, Frame.L4OFF, R1);
        a.st(Size.B, R10, Frame.FLOW + Frame.CT_FAMILY, DatapathCodecs.FAMILY_IPV4);
        a.ldx(Size.W, R1, R10, Frame.HDR + 12).stx(Size.W, R10, Frame.FLOW + Frame.CT_SADDR, R1);
        a.ldx(Size.W, R1, R10, Frame.HDR + 16).stx(Size.W, R10, Frame.FLOW + Frame.CT_DADDR, R1);
        a.ldx(Size.B, R1, R10, Frame.HDR + 9).stx(Size.B, R10, Frame.FLOW + Frame.CT_PROTO, R1);
        a.ldx(Size.H, R1, R10, Frame.HDR + 6).fromBigEndian(R1, 16).mov(R2, R1);
        a.alu(AluOp.AND, R2, 0x1fff).stx(Size.W, R10, Frame.FRAGOFF, R2);
        a.alu(AluOp.AND, R1, 0x2000).stx(Size.W, R10, Frame.MF, R1);
        a.ldx(Size.H, R1, R10, Frame.HDR + 4).stx(Size.W, R10, Frame.FRAG_ID, R1);
        a.ja("l4");
    }

    private static void ipv6(Emit e, String pass) {
        Assembler a = e.a;
        a.label("ipv6");
        e.loadBytes(ETH_HLEN, Frame.HDR, IPV6_HLEN);
        a.jmp(JmpOp.JNE, R0, 0, pass);
        a.ldx(Size.B, R1, R10, Frame.HDR).alu(AluOp.RSH, R1, 4).jmp(JmpOp.JNE, R1, 6, pass);
        a.st(Size.B, R10, Frame.FLOW + Frame.CT_FAMILY, DatapathCodecs.FAMILY_IPV6);
        e.copy(Frame.HDR + 8, Frame.FLOW + Frame.CT_SADDR, 16);
        e.copy(Frame.HDR + 24, Frame.FLOW + Frame.CT_DADDR, 16);
        // r7: next header, r8: its offset (callee-saved across skb_load_bytes).
        a.ldx(Size.B, R7, R10, Frame.HDR + 6).mov(R8, ETH_HLEN + IPV6_HLEN);
        for (int i = 0; i < MAX_EXT_HEADERS; i++) {
            String opt = "v6opt" + i;
            String ah = "v6ah" + i;
            String frag = "v6frag" + i;
            String next = "v6ext" + (i + 1);
            a.label("v6ext" + i);
            a.jmp(JmpOp.JEQ, R7, HOPOPTS, opt).jmp(JmpOp.JEQ, R7, ROUTING, opt).jmp(JmpOp.JEQ, R7, DSTOPTS, opt);
            a.jmp(JmpOp.JEQ, R7, AH, ah).jmp(JmpOp.JEQ, R7, FRAGMENT, frag).ja("v6done");
            // hop-by-hop, routing, destination options: length in 8-byte units, not counting the first 8
            a.label(opt);
            e.loadBytes(R8, Frame.L4, 2);
            a.jmp(JmpOp.JNE, R0, 0, "v6trunc");
            a.ldx(Size.B, R7, R10, Frame.L4).ldx(Size.B, R1, R10, Frame.L4 + 1).add(R1, 1).alu(AluOp.LSH, R1, 3);
            a.alu(AluOp.ADD, R8, R1).ja(next);
            // AH: length in 4-byte units, minus 2
            a.label(ah);
            e.loadBytes(R8, Frame.L4, 2);
            a.jmp(JmpOp.JNE, R0, 0, "v6trunc");
            a.ldx(Size.B, R7, R10, Frame.L4).ldx(Size.B, R1, R10, Frame.L4 + 1).add(R1, 2).alu(AluOp.LSH, R1, 2);
            a.alu(AluOp.ADD, R8, R1).ja(next);
            // fragment header (RFC 8200 4.5): offset in bits 15..3, M in bit 0, 32-bit identification
            a.label(frag);
            e.loadBytes(R8, Frame.L4, 8);
            a.jmp(JmpOp.JNE, R0, 0, "v6trunc");
            a.ldx(Size.B, R7, R10, Frame.L4).ldx(Size.H, R1, R10, Frame.L4 + 2).fromBigEndian(R1, 16).mov(R2, R1);
            a.alu(AluOp.AND, R2, 0xfff8).stx(Size.W, R10, Frame.FRAGOFF, R2);
            a.alu(AluOp.AND, R1, 1).stx(Size.W, R10, Frame.MF, R1);
            a.ldx(Size.W, R1, R10, Frame.L4 + 4).stx(Size.W, R10, Frame.FRAG_ID, R1);
            a.add(R8, 8).ja(next);
        }
        a.label("v6ext" + MAX_EXT_HEADERS); // more extension headers than we read: the L4 header is unknown
        a.jmp(JmpOp.JEQ, R7, HOPOPTS, "v6trunc").jmp(JmpOp.JEQ, R7, ROUTING, "v6trunc")
                .jmp(JmpOp.JEQ, R7, DSTOPTS, "v6trunc").jmp(JmpOp.JEQ, R7, AH, "v6trunc")
                .jmp(JmpOp.JEQ, R7, FRAGMENT, "v6trunc").ja("v6done");
        a.label("v6trunc");
        e.setStatus(Frame.TRUNCATED);
        a.label("v6done");
        a.stx(Size.B, R10, Frame.FLOW + Frame.CT_PROTO, R7).stx(Size.W, R10, Frame.L4OFF, R8);
    }

    /** Ports (or ICMP type and identifier), TCP flags; a later fragment's ports from the fragment map. */
    private static void l4(Emit e, String next, String pass) {
        Assembler a = e.a;
        a.label("l4");
        a.ldx(Size.W, R1, R10, Frame.FRAGOFF).jmp(JmpOp.JNE, R1, 0, "later_fragment");
        a.ldx(Size.B, R7, R10, Frame.FLOW + Frame.CT_PROTO).ldx(Size.W, R8, R10, Frame.L4OFF);
        a.jmp(JmpOp.JEQ, R7, PolicyKey.TCP, "tcp").jmp(JmpOp.JEQ, R7, PolicyKey.UDP, "ports")
                .jmp(JmpOp.JEQ, R7, PolicyKey.SCTP, "ports").jmp(JmpOp.JEQ, R7, PolicyKey.ICMP, "icmp4")
                .jmp(JmpOp.JEQ, R7, PolicyKey.ICMPV6, "icmp6").ja(next);

        a.label("tcp");
        e.loadBytes(R8, Frame.L4, 14);
        a.jmp(JmpOp.JNE, R0, 0, "truncated");
        a.ldx(Size.B, R1, R10, Frame.L4 + 13).stx(Size.W, R10, Frame.TCPFLAGS, R1);
        a.ja("copy_ports");
        a.label("ports");
        e.loadBytes(R8, Frame.L4, 4);
        a.jmp(JmpOp.JNE, R0, 0, "truncated");
        a.label("copy_ports"); // sport and dport are adjacent in the header and in ct_key
        a.ldx(Size.W, R1, R10, Frame.L4).stx(Size.W, R10, Frame.FLOW + Frame.CT_SPORT, R1);
        a.ldx(Size.H, R1, R10, Frame.L4 + 2).fromBigEndian(R1, 16).stx(Size.W, R10, Frame.POLICY_PORT, R1);
        a.ja(next);

        icmp(e, "icmp4", ICMP_ECHO, ICMP_ECHO_REPLY, ICMP_ERRORS, List.of(), next, pass);
        icmp(e, "icmp6", ICMPV6_ECHO, ICMPV6_ECHO_REPLY, ICMPV6_ERRORS, EnforcementProgram.ICMPV6_ALWAYS_PASSED, next, pass);

        a.label("truncated");
        e.setStatus(Frame.TRUNCATED);
        a.ja(next);

        a.label("later_fragment");
        fragKey(e);
        e.lookup(DatapathMaps.FRAGMENTS, Frame.FRAG_KEY);
        a.jmp(JmpOp.JNE, R0, 0, "fragment_known");
        e.setStatus(Frame.FRAG_UNKNOWN);
        a.ja(next);
        a.label("fragment_known");
        a.ldx(Size.W, R1, R0, Frame.FV_SPORT).stx(Size.W, R10, Frame.FLOW + Frame.CT_SPORT, R1);
        a.ldx(Size.H, R1, R0, Frame.FV_POLICY_PORT).stx(Size.W, R10, Frame.POLICY_PORT, R1);
        a.ja(next);
    }

    /**
     * ICMP (or ICMPv6): the policy matches the type; echo requests are tracked by identifier as the source
     * port, replies as the destination port; errors are marked for the related-connection check.
     */
    private static void icmp(Emit e, String label, int echo, int echoReply, int[] errors, List<Integer> passed, String next,
            String pass) {
        Assembler a = e.a;
        a.label(label);
        e.loadBytes(R8, Frame.L4, 8);
        a.jmp(JmpOp.JNE, R0, 0, "truncated");
        a.ldx(Size.B, R1, R10, Frame.L4).stx(Size.W, R10, Frame.POLICY_PORT, R1);
        for (int t : passed) {
            a.jmp(JmpOp.JEQ, R1, t, pass);
        }
        a.jmp(JmpOp.JEQ, R1, echo, label + "_echo").jmp(JmpOp.JEQ, R1, echoReply, label + "_reply");
        for (int t : errors) {
            a.jmp(JmpOp.JEQ, R1, t, label + "_error");
        }
        a.ja(next);
        a.label(label + "_echo");
        a.ldx(Size.H, R1, R10, Frame.L4 + 4).stx(Size.H, R10, Frame.FLOW + Frame.CT_SPORT, R1).ja(next);
        a.label(label + "_reply");
        a.ldx(Size.H, R1, R10, Frame.L4 + 4).stx(Size.H, R10, Frame.FLOW + Frame.CT_DPORT, R1).ja(next);
        a.label(label + "_error");
        e.setStatus(Frame.ICMP_ERROR);
        a.ja(next);
    }

    /** FRAG_KEY from FLOW's addresses, protocol and family, and the datagram's identification. */
    static void fragKey(Emit e) {
        Assembler a = e.a;
        e.copy(Frame.FLOW + Frame.CT_SADDR, Frame.FRAG_KEY + Frame.FK_SADDR, 32);
        a.ldx(Size.W, R1, R10, Frame.FRAG_ID).stx(Size.W, R10, Frame.FRAG_KEY + Frame.FK_ID, R1);
        a.ldx(Size.B, R1, R10, Frame.FLOW + Frame.CT_PROTO).stx(Size.B, R10, Frame.FRAG_KEY + Frame.FK_PROTO, R1);
        a.ldx(Size.B, R1, R10, Frame.FLOW + Frame.CT_FAMILY).stx(Size.B, R10, Frame.FRAG_KEY + Frame.FK_FAMILY, R1);
    }
}
