package dev.meshauth.bpf.datapath;

import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthType;
import org.junit.jupiter.api.Test;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Cilium's 16-byte signal_msg for SIGNAL_AUTH_REQUIRED: u32 signal_nr, then struct auth_key. */
class AuthSignalTest {
    private static MemorySegment record(int nr, int local, int remote, int node, int type, int size) {
        ByteBuffer b = ByteBuffer.allocate(Math.max(size, 16)).order(ByteOrder.nativeOrder());
        b.putInt(nr).putInt(local).putInt(remote).putShort((short) node).put((byte) type).put((byte) 0);
        // ring buffer payloads start 8 bytes into the record: aligned, but the parser must not rely on more
        MemorySegment seg = Arena.ofAuto().allocate(size + 1, 8).asSlice(1, size);
        seg.copyFrom(MemorySegment.ofArray(b.array()).asSlice(0, size));
        return seg;
    }

    @Test
    void parsesTheKeyFromCiliumsLayout() {
        AuthSignal s = AuthSignal.parse(record(2, 1000, 2000, 7, 1, 16));
        assertThat(s.key()).isEqualTo(new AuthKey(1000, 2000, 7, AuthType.SPIRE));
    }

    @Test
    void refusesOtherSignalsAndSizes() {
        assertThatThrownBy(() -> AuthSignal.parse(record(1, 1, 2, 3, 1, 16))).hasMessageContaining("signal number 1");
        assertThatThrownBy(() -> AuthSignal.parse(record(2, 1, 2, 3, 1, 20).asSlice(0, 20)))
                .hasMessageContaining("must be 16 bytes, got 20");
    }
}
