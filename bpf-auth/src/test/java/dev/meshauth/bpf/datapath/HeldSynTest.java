package dev.meshauth.bpf.datapath;

import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.ValueSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.net.InetAddress;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.util.Arrays;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The held-SYN record: its layout, its local address by role, and the checksum it is put back with. */
class HeldSynTest {
    private static final AuthKey KEY = new AuthKey(1001, 1002, 7, AuthType.SPIRE);

    private static MemorySegment record(int nr, int role, int len, byte[] frame) {
        ByteBuffer b = ByteBuffer.allocate(HeldSyn.SIZE).order(ByteOrder.nativeOrder());
        b.putInt(nr).putInt(1001).putInt(1002).putShort((short) 7).put((byte) 1).put((byte) 0);
        b.putInt(role).putInt(len).putInt(5).putInt(0).put(frame, 0, Math.min(frame.length, HeldSyn.CAPTURE));
        MemorySegment seg = Arena.ofAuto().allocate(HeldSyn.SIZE + 1, 8).asSlice(1, HeldSyn.SIZE); // unaligned on purpose
        seg.copyFrom(MemorySegment.ofArray(b.array()));
        return seg;
    }

    @Test
    void parsesWhatTheProgramWrites() {
        byte[] syn = Frames.tcp("198.18.0.1", "198.18.0.2", 40000, 80);
        HeldSyn h = HeldSyn.parse(record(EnforcementProgram.SIGNAL_HELD_SYN, 1, syn.length, syn));
        assertThat(h).isEqualTo(new HeldSyn(KEY, Role.TO_ENDPOINT, 5, syn));
        assertThat(DatapathSignal.parse(record(EnforcementProgram.SIGNAL_HELD_SYN, 2, syn.length, syn)))
                .isEqualTo(new HeldSyn(KEY, Role.FROM_ENDPOINT, 5, syn));
    }

    @Test
    void refusesWhatTheProgramNeverWrites() {
        byte[] syn = Frames.tcp("198.18.0.1", "198.18.0.2", 40000, 80);
        assertThatThrownBy(() -> HeldSyn.parse(record(EnforcementProgram.SIGNAL_HELD_SYN, 3, syn.length, syn)))
                .hasMessageContaining("unknown role 3");
        assertThatThrownBy(() -> HeldSyn.parse(record(EnforcementProgram.SIGNAL_HELD_SYN, 1, 13, syn)))
                .hasMessageContaining("length 13 outside [14, 256]");
        assertThatThrownBy(() -> HeldSyn.parse(record(EnforcementProgram.SIGNAL_HELD_SYN, 1, -1, syn)))
                .hasMessageContaining("length 4294967295");
        assertThatThrownBy(() -> HeldSyn.parse(record(2, 1, syn.length, syn))).hasMessageContaining("signal number 2");
        assertThatThrownBy(() -> HeldSyn.parse(record(EnforcementProgram.SIGNAL_HELD_SYN, 1, syn.length, syn).asSlice(0, 40)))
                .hasMessageContaining("must be " + HeldSyn.SIZE + " bytes");
        assertThatThrownBy(() -> DatapathSignal.parse(record(9, 1, syn.length, syn))).hasMessageContaining("signal number 9");
    }

    @Test
    void theLocalAddressIsTheDestinationOfWhatAnEndpointReceivesAndTheSourceOfWhatItSends() throws Exception {
        byte[] v4 = Frames.tcp("198.18.0.1", "198.18.0.2", 40000, 80);
        byte[] v6 = Frames.tcp("2001:db8::1", "2001:db8::2", 40000, 80);
        assertThat(new HeldSyn(KEY, Role.TO_ENDPOINT, 1, v4).localAddress()).contains(InetAddress.getByName("198.18.0.2"));
        assertThat(new HeldSyn(KEY, Role.FROM_ENDPOINT, 1, v4).localAddress()).contains(InetAddress.getByName("198.18.0.1"));
        assertThat(new HeldSyn(KEY, Role.TO_ENDPOINT, 1, v6).localAddress()).contains(InetAddress.getByName("2001:db8::2"));
        assertThat(new HeldSyn(KEY, Role.FROM_ENDPOINT, 1, v6).localAddress()).contains(InetAddress.getByName("2001:db8::1"));
        assertThat(new HeldSyn(KEY, Role.TO_ENDPOINT, 1, Frames.arp()).localAddress()).isEmpty();
        assertThat(new HeldSyn(KEY, Role.TO_ENDPOINT, 1, Arrays.copyOf(v4, 20)).localAddress()).isEmpty();
    }

    /** One's-complement sum over the pseudo-header and the segment, checksum included: 0xffff when right. */
    private static int verify(byte[] f) {
        boolean v6 = f[12] == (byte) 0x86;
        int l4 = 14 + (v6 ? 40 : (f[14] & 0x0f) * 4);
        int len = f.length - l4;
        ByteBuffer pseudo = ByteBuffer.allocate((v6 ? 40 : 12) + len + 1);
        pseudo.put(f, v6 ? 22 : 26, v6 ? 32 : 8);
        if (v6) {
            pseudo.putInt(len).putInt(6);
        } else {
            pseudo.put((byte) 0).put((byte) 6).putShort((short) len);
        }
        pseudo.put(f, l4, len);
        byte[] p = pseudo.array();
        long sum = 0;
        for (int i = 0; i + 1 < p.length; i += 2) {
            sum += ((p[i] & 0xff) << 8) | (p[i + 1] & 0xff);
            sum = (sum & 0xffff) + (sum >>> 16);
        }
        return (int) sum;
    }

    @ParameterizedTest
    @ValueSource(strings = {"198.18.0.1>198.18.0.2", "2001:db8::1>2001:db8::2"})
    void theFrameIsPutBackWithItsTcpChecksumComputedInFull(String pair) {
        String[] ends = pair.split(">");
        byte[] syn = Frames.tcp(ends[0], ends[1], 40000, 80);
        int l4 = 14 + (ends[0].contains(":") ? 40 : 20);
        syn[l4 + 16] = 0x12; // what checksum offload leaves: a partial sum, not the checksum
        syn[l4 + 17] = 0x34;
        assertThat(verify(syn)).isNotEqualTo(0xffff);
        byte[] fixed = new HeldSyn(KEY, Role.TO_ENDPOINT, 1, syn).reinjectable();
        assertThat(verify(fixed)).isEqualTo(0xffff);
        assertThat(Arrays.copyOf(fixed, l4 + 16)).as("nothing before the checksum changes").isEqualTo(Arrays.copyOf(syn, l4 + 16));
        assertThat(new HeldSyn(KEY, Role.TO_ENDPOINT, 1, fixed).reinjectable()).as("a right checksum stays").isEqualTo(fixed);
    }

    @Test
    void aFrameThatIsNotPlainTcpIsPutBackAsItIs() {
        byte[] udp = Frames.udp("198.18.0.1", "198.18.0.2", 40000, 53);
        assertThat(new HeldSyn(KEY, Role.TO_ENDPOINT, 1, udp).reinjectable()).isEqualTo(udp);
        byte[] cut = Arrays.copyOf(Frames.tcp("198.18.0.1", "198.18.0.2", 40000, 80), 40);
        assertThat(new HeldSyn(KEY, Role.TO_ENDPOINT, 1, cut).reinjectable()).isEqualTo(cut);
    }
}
