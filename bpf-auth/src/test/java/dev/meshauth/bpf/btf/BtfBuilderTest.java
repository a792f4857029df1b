package dev.meshauth.bpf.btf;

import dev.meshauth.bpf.auth.AuthMapLayout;
import org.junit.jupiter.api.Test;

import java.lang.foreign.MemoryLayout;
import java.lang.foreign.StructLayout;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;
import java.nio.charset.StandardCharsets;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;
import static java.lang.foreign.ValueLayout.JAVA_SHORT;
import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** The BTF encoding, decoded back by hand per Documentation/bpf/btf.rst. */
class BtfBuilderTest {

    /** Decodes the string at {@code off} of the string section. */
    private static String str(ByteBuffer b, int strStart, int off) {
        int end = strStart + off;
        while (b.get(end) != 0) {
            end++;
        }
        return new String(b.array(), strStart + off, end - strStart - off, StandardCharsets.US_ASCII);
    }

    @Test
    void headerMatchesTheVerifiedFlowKeyExample() {
        // The reference's verified blob: INT u16/u32/u64, struct flow_key{u32 saddr; u16 dport; u16 proto},
        // struct flow_val{u64 packets; u64 bytes}: type_len 132.
        StructLayout key = MemoryLayout.structLayout(JAVA_INT.withName("saddr"), JAVA_SHORT.withName("dport"),
                JAVA_SHORT.withName("proto")).withName("flow_key");
        StructLayout val = MemoryLayout.structLayout(JAVA_LONG.withName("packets"), JAVA_LONG.withName("bytes"))
                .withName("flow_val");
        BtfBuilder b = new BtfBuilder();
        assertThat(b.struct(key)).isEqualTo(3); // __u32 = 1, __u16 = 2, then the struct
        assertThat(b.struct(val)).isEqualTo(5); // __u64 = 4
        ByteBuffer buf = ByteBuffer.wrap(b.build()).order(ByteOrder.nativeOrder());
        assertThat(buf.getShort(0) & 0xffff).isEqualTo(0xeb9f);
        assertThat(buf.get(2)).isEqualTo((byte) 1);
        assertThat(buf.getInt(4)).isEqualTo(24); // hdr_len
        assertThat(buf.getInt(8)).isZero(); // type_off
        assertThat(buf.getInt(12)).isEqualTo(132); // type_len, as in the verified blob
        assertThat(buf.getInt(16)).isEqualTo(132); // str_off
        assertThat(buf.capacity()).isEqualTo(24 + 132 + buf.getInt(20));
    }

    @Test
    void authKeyStructHasCiliumsMembersAtTheirBitOffsets() {
        BtfBuilder b = new BtfBuilder();
        int keyId = b.struct(AuthMapLayout.KEY);
        ByteBuffer buf = ByteBuffer.wrap(b.build()).order(ByteOrder.nativeOrder());
        int typeStart = 24;
        int strStart = 24 + buf.getInt(16);
        // Walk the type section to the struct (ids count from 1).
        int pos = typeStart;
        for (int id = 1; id < keyId; id++) {
            int info = buf.getInt(pos + 4);
            assertThat(info >>> 24).as("type %d is INT", id).isEqualTo(1);
            pos += 16;
        }
        assertThat(str(buf, strStart, buf.getInt(pos))).isEqualTo("auth_key");
        int info = buf.getInt(pos + 4);
        assertThat(info >>> 24 & 0x1f).isEqualTo(4); // STRUCT
        assertThat(info & 0xffff).isEqualTo(5); // vlen
        assertThat(buf.getInt(pos + 8)).isEqualTo(12); // size
        List<String> members = new ArrayList<>();
        for (int m = 0; m < 5; m++) {
            int at = pos + 12 + m * 12;
            members.add(str(buf, strStart, buf.getInt(at)) + "@" + buf.getInt(at + 8));
        }
        assertThat(members).containsExactly("local_sec_label@0", "remote_sec_label@32", "remote_node_id@64",
                "auth_type@80", "pad@88");
    }

    @Test
    void unnamedLayoutsAreRefused() {
        assertThatThrownBy(() -> new BtfBuilder().struct(MemoryLayout.structLayout(JAVA_INT.withName("a"))))
                .hasMessageContaining("named layout");
        assertThatThrownBy(() -> new BtfBuilder().struct(MemoryLayout.structLayout(JAVA_INT).withName("s")))
                .hasMessageContaining("unnamed field in s");
    }
}
