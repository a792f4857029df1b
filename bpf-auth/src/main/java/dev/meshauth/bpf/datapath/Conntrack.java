package dev.meshauth.bpf.datapath;

import dev.meshauth.bpf.asm.AluOp;
import dev.meshauth.bpf.asm.Assembler;
import dev.meshauth.bpf.asm.Helper;
import dev.meshauth.bpf.asm.JmpOp;
import dev.meshauth.bpf.asm.Reg;
import dev.meshauth.bpf.asm.Size;

import static dev.meshauth.bpf.asm.Reg.R0;
import static dev.meshauth.bpf.asm.Reg.R1;
import static dev.meshauth.bpf.asm.Reg.R10;
import static dev.meshauth.bpf.asm.Reg.R2;
import static dev.meshauth.bpf.asm.Reg.R3;
import static dev.meshauth.bpf.asm.Reg.R4;
import static dev.meshauth.bpf.asm.Reg.R8;
import static dev.meshauth.bpf.asm.Reg.R9;

/**
 * Connection tracking, as Cilium's: one LRU map keyed by the tuple of a connection's first packet. A
 * side that lets a new connection through marks the entry with its flag: {@link Role#TO_ENDPOINT}'s when
 * the destination's ingress policy allowed it, {@link Role#FROM_ENDPOINT}'s when the source's egress policy
 * did (or the endpoint had none). Then, at a program of role R:
 * <ul>
 *   <li>a packet whose own tuple has R's flag is established: it passes;</li>
 *   <li>a packet whose reverse tuple has the other role's flag is a reply of a connection the endpoint's
 *       other side let through: it passes;</li>
 *   <li>an ICMP error whose inner packet belongs to a tracked connection is related: it passes;</li>
 *   <li>anything else is new and goes to policy.</li>
 * </ul>
 * Every passing tracked packet pushes the entry's expiry out by its protocol's and TCP state's timeout
 * (FIN or RST: the close timeout from then on). Expiry is ktime_get_ns; an expired entry counts as absent.
 */
final class Conntrack {
    /** Entry flags: which sides let the connection through, and TCP teardown seen. */
    static final int TO_ENDPOINT_OK = Role.TO_ENDPOINT.ctBit();
    static final int FROM_ENDPOINT_OK = Role.FROM_ENDPOINT.ctBit();
    static final int CLOSING = 4;
    private static final int TCP_FIN = 0x01;
    private static final int TCP_SYN = 0x02;
    private static final int TCP_RST = 0x04;
    private static final int TCP_ACK = 0x10;

    private Conntrack() {
    }

    /**
     * Emits the lookups; passes tracked packets to {@code passTracked}, continues at {@code newConnection}
     * otherwise (CT_FOUND then holds the flags of an entry this side has not approved yet).
     */
    static void emitLookup(Emit e, ConntrackTimeouts t, String passTracked, String newConnection) {
        Assembler a = e.a;
        a.call(Helper.KTIME_GET_NS).stx(Size.DW, R10, Frame.NOW, R0);
        // Forward: this side let the connection through before.
        e.lookup(DatapathMaps.CONNTRACK, Frame.FLOW);
        a.jmp(JmpOp.JEQ, R0, 0, "ct_reverse");
        a.st(Size.W, R10, Frame.CT_EXISTS, 1);
        unexpiredOr(e, "ct_reverse");
        a.ldx(Size.W, R3, R0, Frame.CV_FLAGS).jmp(JmpOp.JSET, R3, e.role.ctBit(), "ct_established");
        a.stx(Size.W, R10, Frame.CT_FOUND, R3).ja("ct_reverse");
        a.label("ct_established");
        refresh(e, t);
        e.count(Counter.CT_ESTABLISHED);
        a.ja(passTracked);

        // Reverse: a reply of a connection the endpoint's other side let through.
        a.label("ct_reverse");
        reverse(e, Frame.FLOW, Frame.REV);
        e.lookup(DatapathMaps.CONNTRACK, Frame.REV);
        a.jmp(JmpOp.JEQ, R0, 0, "ct_related");
        unexpiredOr(e, "ct_related");
        a.ldx(Size.W, R3, R0, Frame.CV_FLAGS).jmp(JmpOp.JSET, R3, e.role.otherCtBit(), "ct_reply");
        a.ja("ct_related");
        a.label("ct_reply");
        refresh(e, t);
        e.count(Counter.CT_REPLY);
        a.ja(passTracked);

        a.label("ct_related");
        related(e, passTracked, newConnection);
    }

    /** Jumps to {@code otherwise} unless the entry at r0 has not expired. */
    private static void unexpiredOr(Emit e, String otherwise) {
        e.a.ldx(Size.DW, R1, R0, Frame.CV_EXPIRES).ldx(Size.DW, R2, R10, Frame.NOW).jmp(JmpOp.JGE, R2, R1, otherwise);
    }

    /** dst = the reverse of the tuple at src: addresses and ports swapped. */
    private static void reverse(Emit e, int src, int dst) {
        Assembler a = e.a;
        e.copy(src + Frame.CT_SADDR, dst + Frame.CT_DADDR, 16);
        e.copy(src + Frame.CT_DADDR, dst + Frame.CT_SADDR, 16);
        a.ldx(Size.H, R1, R10, src + Frame.CT_SPORT).stx(Size.H, R10, dst + Frame.CT_DPORT, R1);
        a.ldx(Size.H, R1, R10, src + Frame.CT_DPORT).stx(Size.H, R10, dst + Frame.CT_SPORT, R1);
        a.ldx(Size.B, R1, R10, src + Frame.CT_PROTO).stx(Size.B, R10, dst + Frame.CT_PROTO, R1);
        a.ldx(Size.B, R1, R10, src + Frame.CT_FAMILY).stx(Size.B, R10, dst + Frame.CT_FAMILY, R1);
    }

    /**
     * An ICMP error carries the header of the packet it is about: rebuild that packet's tuple in REV and
     * look it up both ways; any unexpired entry makes the error related.
     */
    private static void related(Emit e, String passTracked, String newConnection) {
        Assembler a = e.a;
        a.ldx(Size.W, R1, R10, Frame.STATUS).jmp(JmpOp.JSET, R1, Frame.ICMP_ERROR, "rel_inner");
        a.ja(newConnection);
        a.label("rel_inner");
        // REV's addresses are rewritten whole; its unused bytes stay zero (IPv4 upper 12 bytes zero in FLOW).
        a.ldx(Size.W, R8, R10, Frame.L4OFF).add(R8, 8); // the inner IP header follows the 8-byte ICMP header
        a.ldx(Size.B, R1, R10, Frame.FLOW + Frame.CT_FAMILY).jmp(JmpOp.JEQ, R1, DatapathCodecs.FAMILY_IPV6, "rel_v6");
        e.loadBytes(R8, Frame.HDR, 20);
        a.jmp(JmpOp.JNE, R0, 0, newConnection);
        a.ldx(Size.B, R9, R10, Frame.HDR).alu(AluOp.AND, R9, 0x0f).jmp(JmpOp.JLT, R9, 5, newConnection);
        a.alu(AluOp.LSH, R9, 2).alu(AluOp.ADD, R9, R8);
        a.ldx(Size.W, R1, R10, Frame.HDR + 12).stx(Size.W, R10, Frame.REV + Frame.CT_SADDR, R1);
        a.ldx(Size.W, R1, R10, Frame.HDR + 16).stx(Size.W, R10, Frame.REV + Frame.CT_DADDR, R1);
        a.ldx(Size.B, R1, R10, Frame.HDR + 9).stx(Size.B, R10, Frame.REV + Frame.CT_PROTO, R1);
        a.ja("rel_ports");
        a.label("rel_v6");
        e.loadBytes(R8, Frame.HDR, 40);
        a.jmp(JmpOp.JNE, R0, 0, newConnection);
        e.copy(Frame.HDR + 8, Frame.REV + Frame.CT_SADDR, 16);
        e.copy(Frame.HDR + 24, Frame.REV + Frame.CT_DADDR, 16);
        a.ldx(Size.B, R1, R10, Frame.HDR + 6).stx(Size.B, R10, Frame.REV + Frame.CT_PROTO, R1);
        a.mov(R9, R8).add(R9, 40);
        a.label("rel_ports");
        a.st(Size.W, R10, Frame.REV + Frame.CT_SPORT, 0);
        e.loadBytes(R9, Frame.L4, 8);
        a.jmp(JmpOp.JNE, R0, 0, "rel_lookup"); // the inner L4 header may be cut: ports 0
        a.ldx(Size.B, R1, R10, Frame.REV + Frame.CT_PROTO);
        a.jmp(JmpOp.JEQ, R1, PolicyKey.ICMP, "rel_echo").jmp(JmpOp.JEQ, R1, PolicyKey.ICMPV6, "rel_echo");
        a.ldx(Size.W, R1, R10, Frame.L4).stx(Size.W, R10, Frame.REV + Frame.CT_SPORT, R1).ja("rel_lookup");
        a.label("rel_echo"); // an error about an echo request: tracked by its identifier
        a.ldx(Size.H, R1, R10, Frame.L4 + 4).stx(Size.H, R10, Frame.REV + Frame.CT_SPORT, R1);
        a.label("rel_lookup");
        e.lookup(DatapathMaps.CONNTRACK, Frame.REV);
        a.jmp(JmpOp.JEQ, R0, 0, "rel_swapped");
        unexpiredOr(e, "rel_swapped");
        a.ja("rel_ok");
        a.label("rel_swapped");
        reverse(e, Frame.REV, Frame.FRAG_KEY); // FRAG_KEY's 40 bytes as scratch: a ct_key fits exactly
        e.lookup(DatapathMaps.CONNTRACK, Frame.FRAG_KEY);
        a.jmp(JmpOp.JEQ, R0, 0, "rel_cleanup");
        unexpiredOr(e, "rel_cleanup");
        a.label("rel_ok");
        e.count(Counter.CT_RELATED);
        a.ja(passTracked);
        a.label("rel_cleanup"); // FRAG_KEY is rebuilt before its next use; nothing to restore
        a.ja(newConnection);
    }

    /**
     * Records a connection this side lets through: CT_FOUND's flags plus this side's, the expiry for its
     * protocol and TCP state. An entry already there (the other side's, or an expired one) is rewritten in
     * place: an LRU map's update allocates a new element, several times a lookup's cost.
     */
    static void emitCreate(Emit e, ConntrackTimeouts t) {
        Assembler a = e.a;
        a.ldx(Size.W, R1, R10, Frame.CT_EXISTS).jmp(JmpOp.JEQ, R1, 0, "ct_insert");
        e.lookup(DatapathMaps.CONNTRACK, Frame.FLOW);
        a.jmp(JmpOp.JEQ, R0, 0, "ct_insert"); // evicted meanwhile
        a.ldx(Size.W, R3, R10, Frame.CT_FOUND).alu(AluOp.OR, R3, e.role.ctBit());
        refresh(e, t);
        a.ja("ct_created");
        a.label("ct_insert");
        a.ldx(Size.W, R3, R10, Frame.CT_FOUND).alu(AluOp.OR, R3, e.role.ctBit());
        expiry(e, t, R3);
        a.stx(Size.DW, R10, Frame.CT_VAL + Frame.CV_EXPIRES, R1).stx(Size.W, R10, Frame.CT_VAL + Frame.CV_FLAGS, R3);
        e.update(DatapathMaps.CONNTRACK, Frame.FLOW, Frame.CT_VAL);
        a.label("ct_created");
        e.count(Counter.CT_CREATED);
    }

    /** Pushes the expiry of the entry at r0 out (its flags in r3). */
    private static void refresh(Emit e, ConntrackTimeouts t) {
        expiry(e, t, R3);
        e.a.stx(Size.DW, R0, Frame.CV_EXPIRES, R1).stx(Size.W, R0, Frame.CV_FLAGS, R3);
    }

    /**
     * r1 = NOW + the timeout for this packet; sets CLOSING in {@code flags} on a TCP FIN or RST. Clobbers
     * r2 and r4; keeps r0.
     */
    private static void expiry(Emit e, ConntrackTimeouts t, Reg flags) {
        Assembler a = e.a;
        String any = e.label("to_any");
        String fin = e.label("to_fin");
        String syn = e.label("to_syn");
        String done = e.label("to_done");
        a.ldx(Size.B, R2, R10, Frame.FLOW + Frame.CT_PROTO).jmp(JmpOp.JNE, R2, PolicyKey.TCP, any);
        a.ldx(Size.W, R4, R10, Frame.TCPFLAGS).mov(R2, R4).alu(AluOp.AND, R2, TCP_FIN | TCP_RST);
        String noClose = e.label("to_open");
        a.jmp(JmpOp.JEQ, R2, 0, noClose).alu(AluOp.OR, flags, CLOSING);
        a.label(noClose);
        a.jmp(JmpOp.JSET, flags, CLOSING, fin);
        a.mov(R2, R4).alu(AluOp.AND, R2, TCP_SYN | TCP_ACK).jmp(JmpOp.JEQ, R2, TCP_SYN, syn);
        a.ldImm64(R1, t.tcpEstablished().toNanos()).ja(done);
        a.label(syn);
        a.ldImm64(R1, t.tcpSyn().toNanos()).ja(done);
        a.label(fin);
        a.ldImm64(R1, t.tcpFin().toNanos()).ja(done);
        a.label(any);
        a.ldImm64(R1, t.any().toNanos());
        a.label(done);
        a.ldx(Size.DW, R2, R10, Frame.NOW).alu(AluOp.ADD, R1, R2);
    }
}
