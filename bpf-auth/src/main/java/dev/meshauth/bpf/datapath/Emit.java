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
import static dev.meshauth.bpf.asm.Reg.R6;

/**
 * What the enforcement program's sections share while one program is assembled: the assembler, the role
 * it is built for, unique labels, and the small idioms every section uses (map lookups by stack key, copies
 * between stack regions, counters). r6 holds the skb throughout.
 */
final class Emit {
    final Assembler a = new Assembler();
    final Role role;
    private int seq;

    Emit(Role role) {
        this.role = role;
    }

    /** A label name no other emission uses. */
    String label(String base) {
        return base + "_" + seq++;
    }

    /** r0 = skb_load_bytes(skb, offset, r10 + stackOff, len): 0 on success. */
    void loadBytes(int offset, int stackOff, int len) {
        a.mov(R1, R6).mov(R2, offset).mov(R3, R10).add(R3, stackOff).mov(R4, len).call(Helper.SKB_LOAD_BYTES);
    }

    /** As {@link #loadBytes(int, int, int)} with the offset in {@code offset} (not clobbered unless r1-r4). */
    void loadBytes(Reg offset, int stackOff, int len) {
        a.mov(R2, offset).mov(R1, R6).mov(R3, R10).add(R3, stackOff).mov(R4, len).call(Helper.SKB_LOAD_BYTES);
    }

    /** r0 = map_lookup_elem(map, r10 + keyOff). */
    void lookup(String map, int keyOff) {
        a.ldMap(R1, map).mov(R2, R10).add(R2, keyOff).call(Helper.MAP_LOOKUP_ELEM);
    }

    /** map_update_elem(map, r10 + keyOff, r10 + valueOff, BPF_ANY). */
    void update(String map, int keyOff, int valueOff) {
        a.ldMap(R1, map).mov(R2, R10).add(R2, keyOff).mov(R3, R10).add(R3, valueOff).mov(R4, 0)
                .call(Helper.MAP_UPDATE_ELEM);
    }

    /** Copies {@code bytes} (a multiple of 4) from one stack offset to another through r1. */
    void copy(int from, int to, int bytes) {
        int i = 0;
        for (; i + 8 <= bytes; i += 8) {
            a.ldx(Size.DW, R1, R10, from + i).stx(Size.DW, R10, to + i, R1);
        }
        for (; i < bytes; i += 4) {
            a.ldx(Size.W, R1, R10, from + i).stx(Size.W, R10, to + i, R1);
        }
    }

    /** STATUS |= bits. */
    void setStatus(int bits) {
        a.ldx(Size.W, R1, R10, Frame.STATUS).alu(AluOp.OR, R1, bits).stx(Size.W, R10, Frame.STATUS, R1);
    }

    /** Jumps to {@code target} if (u32 at stackOff) & bits is non-zero. */
    void ifAnyBit(int stackOff, int bits, String target) {
        a.ldx(Size.W, R1, R10, stackOff).jmp(JmpOp.JSET, R1, bits, target);
    }

    /** Bumps counter {@code c}. */
    void count(Counter c) {
        String skip = label("counted");
        a.st(Size.W, R10, Frame.COUNTER_KEY, c.index());
        lookup(DatapathMaps.COUNTERS, Frame.COUNTER_KEY);
        a.jmp(JmpOp.JEQ, R0, 0, skip);
        a.ldx(Size.DW, R1, R0, 0).add(R1, 1).stx(Size.DW, R0, 0, R1);
        a.label(skip);
    }

    /** The address of the local endpoint in FLOW (destination for TO_ENDPOINT, source for FROM_ENDPOINT). */
    int localAddr() {
        return Frame.FLOW + (role == Role.TO_ENDPOINT ? Frame.CT_DADDR : Frame.CT_SADDR);
    }

    /** The address of the peer in FLOW. */
    int remoteAddr() {
        return Frame.FLOW + (role == Role.TO_ENDPOINT ? Frame.CT_SADDR : Frame.CT_DADDR);
    }

    /** The endpoints-map flag saying this role's direction has a policy. */
    int policyFlag() {
        return role == Role.TO_ENDPOINT ? EndpointPolicy.INGRESS_POLICY : EndpointPolicy.EGRESS_POLICY;
    }

    /** The endpoints-map flag saying this role's direction is default-deny. */
    int defaultDenyFlag() {
        return role == Role.TO_ENDPOINT ? EndpointPolicy.INGRESS_DEFAULT_DENY : EndpointPolicy.EGRESS_DEFAULT_DENY;
    }
}
