package dev.meshauth.bpf.datapath;

import dev.meshauth.bpf.asm.AluOp;
import dev.meshauth.bpf.asm.Assembler;
import dev.meshauth.bpf.asm.Helper;
import dev.meshauth.bpf.asm.JmpOp;
import dev.meshauth.bpf.asm.Program;
import dev.meshauth.bpf.asm.Size;

import java.util.List;

import static dev.meshauth.bpf.asm.Reg.R0;
import static dev.meshauth.bpf.asm.Reg.R1;
import static dev.meshauth.bpf.asm.Reg.R10;
import static dev.meshauth.bpf.asm.Reg.R2;
import static dev.meshauth.bpf.asm.Reg.R3;
import static dev.meshauth.bpf.asm.Reg.R4;
import static dev.meshauth.bpf.asm.Reg.R6;
import static dev.meshauth.bpf.asm.Reg.R7;
import static dev.meshauth.bpf.asm.Reg.R8;
import static dev.meshauth.bpf.asm.Reg.R9;

/**
 * The standalone datapath's tc program, one instance per {@link Role}: Cilium's policy and auth semantics
 * for the traffic a local endpoint receives (its ingress policy) or sends (its egress policy), stateful.
 *
 * <p>Per packet:
 * <ol>
 *   <li>Not IPv4/IPv6, a malformed IP header (the stack discards malformed IP itself), or IPv6 neighbour
 *       discovery ({@link #ICMPV6_ALWAYS_PASSED}): <b>pass</b>.
 *       The tuple, the port the policy matches (the ICMP type for ICMP) and fragment state are read
 *       ({@link PacketParser}).</li>
 *   <li>The local endpoint (destination for TO_ENDPOINT, source for FROM_ENDPOINT) not in the ipcache, or
 *       with no policy in either direction (endpoints map): <b>pass</b>, untracked.</li>
 *   <li>A header that could not be read, or a later fragment whose first fragment was not let through:
 *       <b>drop</b> where this direction has policy (fail closed), else pass.</li>
 *   <li>Remote identity from the ipcache by the peer address (world, 2, if absent), with its node id.</li>
 *   <li>Connection tracking ({@link Conntrack}): established, replies and related ICMP errors
 *       <b>pass</b> without policy.</li>
 *   <li>Policy, for new connections: no policy in this direction: allowed. Else the policy LPM map in the
 *       order it is built with (the policy engine's {@code LookupStep.ORDER}), first hit wins. No hit:
 *       <b>drop</b> if default-deny, else allowed. Deny: <b>drop</b>.</li>
 *   <li>Allow without auth type: allowed. With one: look up {local, remote, remote node, type} in the auth
 *       map; allowed if {@code now < expiration}, {@code now = (ktime_get_ns() >> 9) + offset} (config[0],
 *       written by the agent). Otherwise <b>drop</b> and, at most once per key per interval (config[1], ns;
 *       LRU map), write {u32 2, auth key} to the ring buffer. A TCP SYN is also handed over whole, not
 *       rate-limited ({@link HeldSyn}), for the agent to put back once the pair is authenticated.</li>
 *   <li>Allowed: the connection is tracked with this side's approval, a first fragment's ports are kept for
 *       its later fragments, and the packet <b>passes</b>.</li>
 * </ol>
 * Every packet bumps one verdict {@link Counter}.
 */
public final class EnforcementProgram {
    /** tc verdicts. */
    public static final int TC_ACT_OK = 0;
    public static final int TC_ACT_SHOT = 2;
    /** {@code SIGNAL_AUTH_REQUIRED} from Cilium's bpf/lib/signal.h. */
    public static final int SIGNAL_AUTH_REQUIRED = 2;
    /** meshauth's own record number for a {@link HeldSyn} (Cilium's numbers stop at 2). */
    public static final int SIGNAL_HELD_SYN = 0x100;
    private static final int TCP_SYN = 0x02;
    private static final int TCP_ACK = 0x10;
    private static final int ETH_HLEN = 14;
    /** {@code struct __sk_buff} fields read from the context. */
    private static final int SKB_LEN = 0;
    private static final int SKB_IFINDEX = 40;
    /** Identity of addresses the ipcache does not know (Cilium's reserved:world). */
    public static final int WORLD_IDENTITY = 2;
    /**
     * ICMPv6 types that always pass, untracked and unjudged, as ARP does for IPv4: multicast listener
     * query/report/done (130-132, 143), router solicitation and advertisement, neighbour solicitation and
     * advertisement, redirect (133-137). Without them IPv6 stops working under default deny, which Cilium
     * avoids by answering neighbour discovery in its own datapath.
     */
    public static final List<Integer> ICMPV6_ALWAYS_PASSED = List.of(130, 131, 132, 133, 134, 135, 136, 137, 143);

    private EnforcementProgram() {
    }

    /**
     * Assembles the program for {@code role}, probing the policy map in {@code lookupOrder}, tracking
     * connections with {@code timeouts}, handing SYNs dropped for auth over ({@link HeldSyn}) if
     * {@code holdSyns}; maps are referenced by the names in {@link DatapathMaps}.
     */
    public static Program build(Role role, List<LookupStep> lookupOrder, ConntrackTimeouts timeouts, boolean holdSyns) {
        List<LookupStep> order = LookupStep.checkOrder(lookupOrder);
        Emit e = new Emit(role);
        Assembler a = e.a;
        a.mov(R6, R1);
        for (int off = -Frame.SIZE; off < 0; off += 8) {
            a.st(Size.DW, R10, off, 0);
        }
        PacketParser.emit(e, "classify", "pass");

        a.label("classify");
        ipcacheLookup(e, e.localAddr());
        a.jmp(JmpOp.JEQ, R0, 0, "pass");
        a.ldx(Size.W, R1, R0, Frame.IV_IDENTITY).stx(Size.W, R10, Frame.LOCAL_ID, R1);
        a.stx(Size.W, R10, Frame.AUTH_KEY + Frame.AK_LOCAL, R1).stx(Size.W, R10, Frame.SCRATCH_KEY, R1);
        e.lookup(DatapathMaps.ENDPOINTS, Frame.SCRATCH_KEY);
        a.jmp(JmpOp.JEQ, R0, 0, "pass");
        a.ldx(Size.W, R1, R0, 0).stx(Size.W, R10, Frame.EP_FLAGS, R1);
        a.ldx(Size.W, R1, R10, Frame.STATUS).jmp(JmpOp.JSET, R1, Frame.TRUNCATED | Frame.FRAG_UNKNOWN, "unreadable");
        a.ja("remote");
        a.label("unreadable");
        e.ifAnyBit(Frame.EP_FLAGS, e.policyFlag(), "unreadable_enforced");
        a.ja("pass");
        a.label("unreadable_enforced");
        e.ifAnyBit(Frame.STATUS, Frame.FRAG_UNKNOWN, "drop_fragment");
        a.ja("drop_policy");

        a.label("remote");
        ipcacheLookup(e, e.remoteAddr());
        a.jmp(JmpOp.JEQ, R0, 0, "world");
        a.ldx(Size.W, R1, R0, Frame.IV_IDENTITY).stx(Size.W, R10, Frame.AUTH_KEY + Frame.AK_REMOTE, R1);
        a.ldx(Size.H, R1, R0, Frame.IV_NODE).stx(Size.H, R10, Frame.AUTH_KEY + Frame.AK_NODE, R1);
        a.ja("conntrack");
        a.label("world");
        a.st(Size.W, R10, Frame.AUTH_KEY + Frame.AK_REMOTE, WORLD_IDENTITY).st(Size.H, R10, Frame.AUTH_KEY + Frame.AK_NODE, 0);

        a.label("conntrack");
        Conntrack.emitLookup(e, timeouts, "pass_tracked", "policy");

        a.label("policy");
        e.ifAnyBit(Frame.EP_FLAGS, e.policyFlag(), "policy_lookup");
        a.ja("allowed");
        a.label("policy_lookup");
        policyLookup(e, order);
        e.ifAnyBit(Frame.EP_FLAGS, e.defaultDenyFlag(), "drop_policy");
        a.ja("allowed");

        a.label("verdict");
        a.ldx(Size.B, R1, R0, Frame.PV_DENY).jmp(JmpOp.JNE, R1, 0, "drop_policy");
        a.ldx(Size.B, R9, R0, Frame.PV_AUTH_TYPE).jmp(JmpOp.JEQ, R9, 0, "allowed");
        auth(e, holdSyns);

        a.label("allowed");
        Conntrack.emitCreate(e, timeouts);

        a.label("pass_tracked");
        rememberFirstFragment(e);

        a.label("pass");
        e.count(Counter.PASSED);
        a.mov(R0, TC_ACT_OK).exit();

        a.label("drop_fragment");
        e.count(Counter.DROPPED_FRAGMENT);
        a.mov(R0, TC_ACT_SHOT).exit();

        a.label("drop_policy");
        e.count(Counter.DROPPED_POLICY);
        a.mov(R0, TC_ACT_SHOT).exit();
        return a.build();
    }

    /** r0 = ipcache lookup of the host address at stack offset {@code addrOff} (16 bytes), in FLOW's family. */
    private static void ipcacheLookup(Emit e, int addrOff) {
        Assembler a = e.a;
        String v6 = e.label("ipc_v6");
        String go = e.label("ipc_go");
        a.ldx(Size.B, R1, R10, Frame.FLOW + Frame.CT_FAMILY).stx(Size.B, R10, Frame.IPC_KEY + Frame.IK_FAMILY, R1);
        a.jmp(JmpOp.JEQ, R1, DatapathCodecs.FAMILY_IPV6, v6);
        a.st(Size.W, R10, Frame.IPC_KEY + Frame.IK_PREFIXLEN, DatapathCodecs.IPCACHE_PREFIX_BASE + 32).ja(go);
        a.label(v6);
        a.st(Size.W, R10, Frame.IPC_KEY + Frame.IK_PREFIXLEN, DatapathCodecs.IPCACHE_PREFIX_BASE + 128);
        a.label(go);
        e.copy(addrOff, Frame.IPC_KEY + Frame.IK_ADDR, 16);
        e.lookup(DatapathMaps.IPCACHE, Frame.IPC_KEY);
    }

    /** Probes the policy map in {@code order}; jumps to "verdict" with the entry in r0 on the first hit. */
    private static void policyLookup(Emit e, List<LookupStep> order) {
        Assembler a = e.a;
        a.st(Size.W, R10, Frame.POL_KEY + Frame.PK_PREFIXLEN, DatapathCodecs.POLICY_FULL_PREFIX);
        a.ldx(Size.W, R1, R10, Frame.LOCAL_ID).stx(Size.W, R10, Frame.POL_KEY + Frame.PK_LOCAL, R1);
        a.st(Size.B, R10, Frame.POL_KEY + Frame.PK_DIR, e.role.direction().wire());
        a.ldx(Size.B, R1, R10, Frame.FLOW + Frame.CT_PROTO).stx(Size.B, R10, Frame.POL_KEY + Frame.PK_PROTO, R1);
        a.ldx(Size.W, R1, R10, Frame.POLICY_PORT).fromBigEndian(R1, 16).stx(Size.H, R10, Frame.POL_KEY + Frame.PK_DPORT, R1);
        for (LookupStep step : order) {
            if (step.anyRemote()) {
                a.st(Size.W, R10, Frame.POL_KEY + Frame.PK_REMOTE, 0);
            } else {
                a.ldx(Size.W, R1, R10, Frame.AUTH_KEY + Frame.AK_REMOTE).stx(Size.W, R10, Frame.POL_KEY + Frame.PK_REMOTE, R1);
            }
            e.lookup(DatapathMaps.POLICY, Frame.POL_KEY);
            a.jmp(JmpOp.JNE, R0, 0, "verdict");
        }
    }

    /** The auth type in r9: "allowed" if the auth map holds an unexpired entry; otherwise signal and drop. */
    private static void auth(Emit e, boolean holdSyns) {
        Assembler a = e.a;
        a.stx(Size.B, R10, Frame.AUTH_KEY + Frame.AK_TYPE, R9).st(Size.B, R10, Frame.AUTH_KEY + Frame.AK_PAD, 0);
        e.lookup(DatapathMaps.AUTH, Frame.AUTH_KEY);
        a.jmp(JmpOp.JEQ, R0, 0, "auth_missing");
        a.ldx(Size.DW, R8, R0, 0);
        configLookup(e, DatapathMaps.CONFIG_UTIME_OFFSET);
        a.jmp(JmpOp.JEQ, R0, 0, "auth_missing");
        a.ldx(Size.DW, R1, R0, 0).ldx(Size.DW, R2, R10, Frame.NOW).alu(AluOp.RSH, R2, 9).alu(AluOp.ADD, R2, R1);
        a.jmp(JmpOp.JLT, R2, R8, "allowed");

        a.label("auth_missing");
        if (holdSyns) {
            holdSyn(e);
        }
        configLookup(e, DatapathMaps.CONFIG_SIGNAL_INTERVAL);
        a.ldImm64(R9, 1_000_000_000L);
        a.jmp(JmpOp.JEQ, R0, 0, "rate_limit");
        a.ldx(Size.DW, R9, R0, 0);
        a.label("rate_limit");
        e.lookup(DatapathMaps.SIGNAL_RATE, Frame.AUTH_KEY);
        a.jmp(JmpOp.JEQ, R0, 0, "emit");
        a.ldx(Size.DW, R1, R0, 0).ldx(Size.DW, R2, R10, Frame.NOW).alu(AluOp.SUB, R2, R1);
        a.jmp(JmpOp.JLT, R2, R9, "suppressed");
        a.label("emit");
        e.update(DatapathMaps.SIGNAL_RATE, Frame.AUTH_KEY, Frame.NOW);
        a.st(Size.W, R10, Frame.RECORD + Frame.SIG_NR, SIGNAL_AUTH_REQUIRED);
        a.ldMap(R1, DatapathMaps.SIGNALS).mov(R2, R10).add(R2, Frame.RECORD).mov(R3, Frame.RECORD_SIZE).mov(R4, 0)
                .call(Helper.RINGBUF_OUTPUT);
        a.jmp(JmpOp.JEQ, R0, 0, "emitted");
        e.count(Counter.SIGNALS_LOST);
        a.ja("drop_auth");
        a.label("emitted");
        e.count(Counter.SIGNALS_EMITTED);
        a.ja("drop_auth");
        a.label("suppressed");
        e.count(Counter.SIGNALS_SUPPRESSED);
        a.label("drop_auth");
        e.count(Counter.DROPPED_AUTH);
        a.mov(R0, TC_ACT_SHOT).exit();
    }

    /**
     * A TCP SYN (without ACK) of at most {@link DatapathCodecs#HELD_CAPTURE} bytes: its frame goes to the ring
     * buffer as a {@link HeldSyn}, not rate-limited (each connection's first SYN is held once; the kernel's
     * retransmits a second later are held again only if the pair is still missing). Falls through.
     */
    private static void holdSyn(Emit e) {
        Assembler a = e.a;
        String done = e.label("held_done");
        String lost = e.label("held_lost");
        String discard = e.label("held_discard");
        a.ldx(Size.W, R1, R10, Frame.TCPFLAGS).alu(AluOp.AND, R1, TCP_SYN | TCP_ACK).jmp(JmpOp.JNE, R1, TCP_SYN, done);
        a.ldx(Size.W, R7, R6, SKB_LEN);
        a.jmp(JmpOp.JGT, R7, DatapathCodecs.HELD_CAPTURE, done).jmp(JmpOp.JLT, R7, ETH_HLEN, done);
        a.ldMap(R1, DatapathMaps.SIGNALS).mov(R2, (int) DatapathCodecs.HELD_SYN.byteSize()).mov(R3, 0)
                .call(Helper.RINGBUF_RESERVE);
        a.jmp(JmpOp.JEQ, R0, 0, lost);
        a.mov(R8, R0);
        a.st(Size.W, R8, Frame.HS_NR, SIGNAL_HELD_SYN);
        for (int i = 0; i < 12; i += 4) {
            a.ldx(Size.W, R1, R10, Frame.AUTH_KEY + i).stx(Size.W, R8, Frame.HS_AUTH + i, R1);
        }
        a.st(Size.W, R8, Frame.HS_ROLE, e.role.ctBit()).stx(Size.W, R8, Frame.HS_LEN, R7);
        a.ldx(Size.W, R1, R6, SKB_IFINDEX).stx(Size.W, R8, Frame.HS_IFINDEX, R1).st(Size.W, R8, Frame.HS_PAD, 0);
        a.mov(R1, R6).mov(R2, 0).mov(R3, R8).add(R3, Frame.HS_FRAME).mov(R4, R7).call(Helper.SKB_LOAD_BYTES);
        a.jmp(JmpOp.JNE, R0, 0, discard);
        a.mov(R1, R8).mov(R2, 0).call(Helper.RINGBUF_SUBMIT);
        e.count(Counter.SYNS_HELD);
        a.ja(done);
        a.label(discard);
        a.mov(R1, R8).mov(R2, 0).call(Helper.RINGBUF_DISCARD);
        a.label(lost);
        e.count(Counter.SYNS_HELD_LOST);
        a.label(done);
    }

    /** A first fragment with more to come: its ports, for the later fragments of the datagram. */
    private static void rememberFirstFragment(Emit e) {
        Assembler a = e.a;
        a.ldx(Size.W, R1, R10, Frame.MF).jmp(JmpOp.JEQ, R1, 0, "pass");
        a.ldx(Size.W, R1, R10, Frame.FRAGOFF).jmp(JmpOp.JNE, R1, 0, "pass");
        PacketParser.fragKey(e);
        a.ldx(Size.W, R1, R10, Frame.FLOW + Frame.CT_SPORT).stx(Size.W, R10, Frame.FRAG_VAL + Frame.FV_SPORT, R1);
        a.ldx(Size.W, R1, R10, Frame.POLICY_PORT).stx(Size.H, R10, Frame.FRAG_VAL + Frame.FV_POLICY_PORT, R1);
        e.update(DatapathMaps.FRAGMENTS, Frame.FRAG_KEY, Frame.FRAG_VAL);
    }

    private static void configLookup(Emit e, int index) {
        e.a.st(Size.W, R10, Frame.SCRATCH_KEY, index);
        e.lookup(DatapathMaps.CONFIG, Frame.SCRATCH_KEY);
    }
}
