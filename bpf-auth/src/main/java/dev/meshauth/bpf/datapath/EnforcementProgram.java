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
 * The standalone datapath's tc program: ingress policy with Cilium's auth semantics, for traffic entering
 * a local endpoint (attach it at ingress of the endpoint's interface).
 *
 * <p>Per packet:
 * <ol>
 *   <li>Not IPv4, IPv4 header unreadable or malformed (version, IHL), or not TCP/UDP: <b>pass</b>. (The
 *       stack discards malformed IPv4 itself; nothing reaches a socket.)</li>
 *   <li>Destination not in the ipcache, or its identity has no ingress policy (endpoints map):
 *       <b>pass</b> (Cilium: an endpoint no policy selects is default-allow).</li>
 *   <li>TCP/UDP header unreadable (truncated, not a fragment): <b>drop</b> (fail closed: the port is
 *       unknown). Non-first fragments carry no ports and match only any-port entries.</li>
 *   <li>Remote identity from the ipcache by source address (world, 2, if absent), with its node id.</li>
 *   <li>Policy lookup, first hit wins, in the order it is built with (the policy engine's
 *       {@code LookupStep.ORDER}: most specific first). No hit: <b>drop</b> (default-deny for a selected
 *       endpoint). Deny: <b>drop</b>.</li>
 *   <li>Allow without auth type: <b>pass</b>. With one: look up {local, remote, remote node, type} in the
 *       auth map; <b>pass</b> if {@code now < expiration}, {@code now = (ktime_get_ns() >> 9) + offset}
 *       (config[0], written by the agent). Otherwise <b>drop</b> and, at most once per key per interval
 *       (config[1], ns; LRU map), write {u32 2, auth key} to the ring buffer.</li>
 * </ol>
 * Every outcome bumps one per-CPU {@link Counter}.
 */
public final class EnforcementProgram {
    /** tc verdicts. */
    public static final int TC_ACT_OK = 0;
    public static final int TC_ACT_SHOT = 2;
    /** {@code SIGNAL_AUTH_REQUIRED} from Cilium's bpf/lib/signal.h. */
    public static final int SIGNAL_AUTH_REQUIRED = 2;
    /** Identity of addresses the ipcache does not know (Cilium's reserved:world). */
    public static final int WORLD_IDENTITY = 2;

    // Struct field offsets, from the layouts the maps are created with (one definition).
    private static final int PK_LOCAL = DatapathCodecs.offset(DatapathCodecs.POLICY_KEY, "local_id");
    private static final int PK_REMOTE = DatapathCodecs.offset(DatapathCodecs.POLICY_KEY, "remote_id");
    private static final int PK_DPORT = DatapathCodecs.offset(DatapathCodecs.POLICY_KEY, "dport");
    private static final int PK_PROTO = DatapathCodecs.offset(DatapathCodecs.POLICY_KEY, "proto");
    private static final int PK_DIR = DatapathCodecs.offset(DatapathCodecs.POLICY_KEY, "dir");
    private static final int PV_DENY = DatapathCodecs.offset(DatapathCodecs.POLICY_VALUE, "deny");
    private static final int PV_AUTH_TYPE = DatapathCodecs.offset(DatapathCodecs.POLICY_VALUE, "auth_type");
    private static final int IV_IDENTITY = DatapathCodecs.offset(DatapathCodecs.IPCACHE_VALUE, "sec_identity");
    private static final int IV_NODE = DatapathCodecs.offset(DatapathCodecs.IPCACHE_VALUE, "node_id");
    private static final int LK_PREFIXLEN = DatapathCodecs.offset(DatapathCodecs.IPCACHE_KEY, "prefixlen");
    private static final int LK_ADDR = DatapathCodecs.offset(DatapathCodecs.IPCACHE_KEY, "addr");
    private static final int SIG_NR = DatapathCodecs.offset(DatapathCodecs.SIGNAL_MSG, "signal_nr");
    private static final int SIG_AUTH = DatapathCodecs.offset(DatapathCodecs.SIGNAL_MSG, "auth");
    private static final int AK_LOCAL = DatapathCodecs.offset(DatapathCodecs.SIGNAL_MSG, "auth", "local_sec_label") - SIG_AUTH;
    private static final int AK_REMOTE = DatapathCodecs.offset(DatapathCodecs.SIGNAL_MSG, "auth", "remote_sec_label")
            - SIG_AUTH;
    private static final int AK_NODE = DatapathCodecs.offset(DatapathCodecs.SIGNAL_MSG, "auth", "remote_node_id") - SIG_AUTH;
    private static final int AK_TYPE = DatapathCodecs.offset(DatapathCodecs.SIGNAL_MSG, "auth", "auth_type") - SIG_AUTH;
    private static final int AK_PAD = DatapathCodecs.offset(DatapathCodecs.SIGNAL_MSG, "auth", "pad") - SIG_AUTH;
    private static final int RECORD_SIZE = (int) DatapathCodecs.SIGNAL_MSG.byteSize();

    // Stack layout (offsets from r10).
    private static final int SCRATCH_KEY = -4;      // u32 key for config/endpoints lookups
    private static final int COUNTER_KEY = -8;      // u32 counter index
    private static final int IP_HDR = -48;          // 20 bytes of IPv4 header
    private static final int PORTS = -52;           // sport(2) dport(2), network order
    private static final int TRUNCATED = -56;       // u32: L4 header unreadable
    private static final int LPM_KEY = -64;         // struct ipcache_key
    private static final int POLICY_KEY = -80;      // struct policy_key
    private static final int RECORD = -96;          // struct signal_msg: 16 bytes
    private static final int AUTH_KEY = RECORD + SIG_AUTH; // the auth_key inside the record
    private static final int NOW_NS = -104;         // u64 ktime
    private static final int EP_FLAGS = -108;       // u32 endpoints map flags of the destination
    private static final int ETH_HLEN = 14;
    private static final int SKB_PROTOCOL = 16;     // offsetof(struct __sk_buff, protocol), network order
    private static final int ETH_P_IP_BE = 0x0008;  // htons(0x0800) read as a little-endian u32

    private EnforcementProgram() {
    }

    /**
     * Assembles the program, probing the policy map in {@code lookupOrder}; maps are referenced by the
     * names in {@link DatapathMaps}.
     */
    public static Program build(List<LookupStep> lookupOrder) {
        List<LookupStep> order = LookupStep.checkOrder(lookupOrder);
        Assembler a = new Assembler();
        a.mov(R6, R1);
        a.st(Size.W, R10, TRUNCATED, 0).st(Size.W, R10, PORTS, 0);
        a.ldx(Size.W, R0, R6, SKB_PROTOCOL).jmp(JmpOp.JNE, R0, ETH_P_IP_BE, "pass");
        loadBytes(a, ETH_HLEN, IP_HDR, 20);
        a.jmp(JmpOp.JNE, R0, 0, "pass");
        // version 4, IHL >= 5
        a.ldx(Size.B, R1, R10, IP_HDR).mov(R2, R1).alu(AluOp.RSH, R2, 4).jmp(JmpOp.JNE, R2, 4, "pass");
        a.alu(AluOp.AND, R1, 0x0f).jmp(JmpOp.JLT, R1, 5, "pass").alu(AluOp.LSH, R1, 2).mov(R9, R1);
        a.ldx(Size.B, R8, R10, IP_HDR + 9);
        a.jmp(JmpOp.JEQ, R8, PolicyKey.TCP, "l4").jmp(JmpOp.JEQ, R8, PolicyKey.UDP, "l4").ja("pass");

        a.label("l4");
        a.ldx(Size.H, R1, R10, IP_HDR + 6).fromBigEndian(R1, 16).alu(AluOp.AND, R1, 0x1fff);
        a.jmp(JmpOp.JNE, R1, 0, "endpoint"); // non-first fragment: no ports, any-port entries only
        a.mov(R1, R6).mov(R2, R9).add(R2, ETH_HLEN).mov(R3, R10).add(R3, PORTS).mov(R4, 4)
                .call(Helper.SKB_LOAD_BYTES);
        a.jmp(JmpOp.JEQ, R0, 0, "endpoint");
        a.st(Size.W, R10, TRUNCATED, 1);

        a.label("endpoint");
        ipcacheLookup(a, IP_HDR + 16);
        a.jmp(JmpOp.JEQ, R0, 0, "pass");
        a.ldx(Size.W, R7, R0, IV_IDENTITY);
        a.stx(Size.W, R10, SCRATCH_KEY, R7);
        a.ldMap(R1, DatapathMaps.ENDPOINTS).mov(R2, R10).add(R2, SCRATCH_KEY).call(Helper.MAP_LOOKUP_ELEM);
        a.jmp(JmpOp.JEQ, R0, 0, "pass");
        a.ldx(Size.W, R1, R0, 0).stx(Size.W, R10, EP_FLAGS, R1);
        a.ldx(Size.W, R1, R10, TRUNCATED).jmp(JmpOp.JNE, R1, 0, "drop_policy");

        // Remote identity and node from the source address.
        ipcacheLookup(a, IP_HDR + 12);
        a.jmp(JmpOp.JEQ, R0, 0, "world");
        a.ldx(Size.W, R1, R0, IV_IDENTITY).stx(Size.W, R10, AUTH_KEY + AK_REMOTE, R1);
        a.ldx(Size.H, R1, R0, IV_NODE).stx(Size.H, R10, AUTH_KEY + AK_NODE, R1);
        a.ja("remote_known");
        a.label("world");
        a.st(Size.W, R10, AUTH_KEY + AK_REMOTE, WORLD_IDENTITY).st(Size.H, R10, AUTH_KEY + AK_NODE, 0);
        a.label("remote_known");
        a.stx(Size.W, R10, AUTH_KEY + AK_LOCAL, R7);

        // Policy: in the engine's order, first hit wins.
        a.stx(Size.W, R10, POLICY_KEY + PK_LOCAL, R7).st(Size.B, R10, POLICY_KEY + PK_DIR, Direction.INGRESS.wire());
        for (LookupStep step : order) {
            policyLookup(a, step);
            a.jmp(JmpOp.JNE, R0, 0, "verdict");
        }
        a.ldx(Size.W, R1, R10, EP_FLAGS).alu(AluOp.AND, R1, 1).jmp(JmpOp.JEQ, R1, 0, "pass"); // no hit, default-allow
        a.ja("drop_policy");

        a.label("verdict");
        a.ldx(Size.B, R1, R0, PV_DENY).jmp(JmpOp.JNE, R1, 0, "drop_policy");
        a.ldx(Size.B, R9, R0, PV_AUTH_TYPE).jmp(JmpOp.JEQ, R9, 0, "pass");
        a.stx(Size.B, R10, AUTH_KEY + AK_TYPE, R9).st(Size.B, R10, AUTH_KEY + AK_PAD, 0);
        a.ldMap(R1, DatapathMaps.AUTH).mov(R2, R10).add(R2, AUTH_KEY).call(Helper.MAP_LOOKUP_ELEM);
        a.jmp(JmpOp.JEQ, R0, 0, "auth_missing");
        a.ldx(Size.DW, R8, R0, 0);
        a.call(Helper.KTIME_GET_NS).stx(Size.DW, R10, NOW_NS, R0);
        configLookup(a, 0);
        a.jmp(JmpOp.JEQ, R0, 0, "auth_missing");
        a.ldx(Size.DW, R1, R0, 0).ldx(Size.DW, R2, R10, NOW_NS).alu(AluOp.RSH, R2, 9).alu(AluOp.ADD, R2, R1);
        a.jmp(JmpOp.JLT, R2, R8, "pass");

        a.label("auth_missing");
        a.call(Helper.KTIME_GET_NS).stx(Size.DW, R10, NOW_NS, R0);
        configLookup(a, 1);
        a.ldImm64(R9, 1_000_000_000L);
        a.jmp(JmpOp.JEQ, R0, 0, "rate_limit");
        a.ldx(Size.DW, R9, R0, 0);
        a.label("rate_limit");
        a.ldMap(R1, DatapathMaps.SIGNAL_RATE).mov(R2, R10).add(R2, AUTH_KEY).call(Helper.MAP_LOOKUP_ELEM);
        a.jmp(JmpOp.JEQ, R0, 0, "emit");
        a.ldx(Size.DW, R1, R0, 0).ldx(Size.DW, R2, R10, NOW_NS).alu(AluOp.SUB, R2, R1);
        a.jmp(JmpOp.JLT, R2, R9, "suppressed");
        a.label("emit");
        a.ldMap(R1, DatapathMaps.SIGNAL_RATE).mov(R2, R10).add(R2, AUTH_KEY).mov(R3, R10).add(R3, NOW_NS)
                .mov(R4, 0).call(Helper.MAP_UPDATE_ELEM);
        a.st(Size.W, R10, RECORD + SIG_NR, SIGNAL_AUTH_REQUIRED);
        a.ldMap(R1, DatapathMaps.SIGNALS).mov(R2, R10).add(R2, RECORD).mov(R3, RECORD_SIZE).mov(R4, 0)
                .call(Helper.RINGBUF_OUTPUT);
        a.jmp(JmpOp.JEQ, R0, 0, "emitted");
        count(a, Counter.SIGNALS_LOST);
        a.ja("drop_auth");
        a.label("emitted");
        count(a, Counter.SIGNALS_EMITTED);
        a.ja("drop_auth");
        a.label("suppressed");
        count(a, Counter.SIGNALS_SUPPRESSED);
        a.label("drop_auth");
        count(a, Counter.DROPPED_AUTH);
        a.mov(R0, TC_ACT_SHOT).exit();

        a.label("drop_policy");
        count(a, Counter.DROPPED_POLICY);
        a.mov(R0, TC_ACT_SHOT).exit();

        a.label("pass");
        count(a, Counter.PASSED);
        a.mov(R0, TC_ACT_OK).exit();
        return a.build();
    }

    private static void loadBytes(Assembler a, int offset, int stackOff, int len) {
        a.mov(R1, R6).mov(R2, offset).mov(R3, R10).add(R3, stackOff).mov(R4, len).call(Helper.SKB_LOAD_BYTES);
    }

    /** r0 = ipcache lookup of the /32 whose address is the u32 at stack offset {@code addrOff}. */
    private static void ipcacheLookup(Assembler a, int addrOff) {
        a.st(Size.W, R10, LPM_KEY + LK_PREFIXLEN, 32).ldx(Size.W, R1, R10, addrOff).stx(Size.W, R10, LPM_KEY + LK_ADDR, R1);
        a.ldMap(R1, DatapathMaps.IPCACHE).mov(R2, R10).add(R2, LPM_KEY).call(Helper.MAP_LOOKUP_ELEM);
    }

    private static void policyLookup(Assembler a, LookupStep step) {
        if (step.anyRemote()) {
            a.st(Size.W, R10, POLICY_KEY + PK_REMOTE, 0);
        } else {
            a.ldx(Size.W, R1, R10, AUTH_KEY + AK_REMOTE).stx(Size.W, R10, POLICY_KEY + PK_REMOTE, R1);
        }
        if (step.anyPort()) {
            a.st(Size.H, R10, POLICY_KEY + PK_DPORT, 0);
        } else {
            a.ldx(Size.H, R1, R10, PORTS + 2).fromBigEndian(R1, 16).stx(Size.H, R10, POLICY_KEY + PK_DPORT, R1);
        }
        if (step.anyProtocol()) {
            a.st(Size.B, R10, POLICY_KEY + PK_PROTO, 0);
        } else {
            a.stx(Size.B, R10, POLICY_KEY + PK_PROTO, R8);
        }
        a.ldMap(R1, DatapathMaps.POLICY).mov(R2, R10).add(R2, POLICY_KEY).call(Helper.MAP_LOOKUP_ELEM);
    }

    private static void configLookup(Assembler a, int index) {
        a.st(Size.W, R10, SCRATCH_KEY, index);
        a.ldMap(R1, DatapathMaps.CONFIG).mov(R2, R10).add(R2, SCRATCH_KEY).call(Helper.MAP_LOOKUP_ELEM);
    }

    /** Bumps counter {@code c}; each counter is bumped at one place, so its name makes the label unique. */
    private static void count(Assembler a, Counter c) {
        String skip = "counted_" + c.name().toLowerCase(java.util.Locale.ROOT);
        a.st(Size.W, R10, COUNTER_KEY, c.index());
        a.ldMap(R1, DatapathMaps.COUNTERS).mov(R2, R10).add(R2, COUNTER_KEY).call(Helper.MAP_LOOKUP_ELEM);
        a.jmp(JmpOp.JEQ, R0, 0, skip);
        a.ldx(Size.DW, R1, R0, 0).add(R1, 1).stx(Size.DW, R0, 0, R1);
        a.label(skip);
    }
}
