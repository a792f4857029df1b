package dev.meshauth.bpf.auth;

import org.junit.jupiter.api.Test;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.CsvSource;

import java.lang.foreign.Arena;
import java.lang.foreign.MemoryLayout.PathElement;
import java.lang.foreign.MemorySegment;
import java.nio.ByteBuffer;
import java.nio.ByteOrder;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Pins every offset and size of Cilium's {@code struct auth_key} and {@code struct auth_info}. */
class AuthMapLayoutTest {

    @ParameterizedTest(name = "auth_key.{0} at offset {1}, {2} bytes")
    @CsvSource({
        "local_sec_label, 0, 4",
        "remote_sec_label, 4, 4",
        "remote_node_id, 8, 2",
        "auth_type, 10, 1",
        "pad, 11, 1",
    })
    void keyFieldsSitWhereCiliumPutsThem(String field, long offset, long size) {
        assertThat(AuthMapLayout.KEY.byteOffset(PathElement.groupElement(field))).isEqualTo(offset);
        assertThat(AuthMapLayout.KEY.select(PathElement.groupElement(field)).byteSize()).isEqualTo(size);
    }

    @Test
    void keyIsTwelveBytesAndValueEight() {
        assertThat(AuthMapLayout.KEY.byteSize()).isEqualTo(12);
        assertThat(AuthMapLayout.VALUE.byteSize()).isEqualTo(8);
        assertThat(AuthMapLayout.VALUE.byteOffset(PathElement.groupElement("expiration"))).isZero();
        assertThat(AuthMapLayout.KEY_CODEC.size()).isEqualTo(12);
        assertThat(AuthMapLayout.VALUE_CODEC.size()).isEqualTo(8);
    }

    @Test
    void keyEncodesInHostByteOrderWithZeroPad() {
        // Expected bytes built independently with a ByteBuffer in native order, field by field.
        ByteBuffer expected = ByteBuffer.allocate(12).order(ByteOrder.nativeOrder())
                .putInt(0x01020304).putInt(0xA0B0C0D0).putShort((short) 0xBEEF).put((byte) 1).put((byte) 0);
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment seg = arena.allocate(12);
            seg.fill((byte) 0x7f); // garbage that encode must overwrite, pad included
            AuthMapLayout.KEY_CODEC.encode(new AuthKey(0x01020304L, 0xA0B0C0D0L, 0xBEEF, AuthType.SPIRE), seg, 0);
            assertThat(seg.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)).containsExactly(expected.array());
        }
    }

    @Test
    void keyDecodesUnsignedValuesWithoutSignExtension() {
        ByteBuffer raw = ByteBuffer.allocate(12).order(ByteOrder.nativeOrder())
                .putInt(-1).putInt(0x80000000).putShort((short) -1).put((byte) 0xff).put((byte) 0);
        MemorySegment seg = Arena.ofAuto().allocate(12, 4).copyFrom(MemorySegment.ofArray(raw.array()));
        AuthKey k = AuthMapLayout.KEY_CODEC.decode(seg, 0);
        assertThat(k.localIdentity()).isEqualTo(4_294_967_295L);
        assertThat(k.remoteIdentity()).isEqualTo(2_147_483_648L);
        assertThat(k.remoteNodeId()).isEqualTo(65_535);
        assertThat(k.authType().code()).isEqualTo(255);
        assertThat(k.authType()).hasToString("Unknown-auth-type-255");
    }

    @Test
    void valueEncodesExpirationTicks() {
        ByteBuffer expected = ByteBuffer.allocate(8).order(ByteOrder.nativeOrder()).putLong(3_413_514_062_500_000L);
        MemorySegment seg = Arena.ofAuto().allocate(8, 8);
        AuthMapLayout.VALUE_CODEC.encode(new AuthInfo(new UTime(3_413_514_062_500_000L)), seg, 0);
        assertThat(seg.toArray(java.lang.foreign.ValueLayout.JAVA_BYTE)).containsExactly(expected.array());
        assertThat(AuthMapLayout.VALUE_CODEC.decode(seg, 0).expiration().ticks()).isEqualTo(3_413_514_062_500_000L);
    }

    @Test
    void mapSpecMatchesCiliumsDefinition() {
        var spec = AuthMapLayout.spec(AuthMapLayout.DEFAULT_MAX_ENTRIES);
        assertThat(spec.name()).isEqualTo("cilium_auth_map");
        assertThat(spec.type().number()).isEqualTo(1); // BPF_MAP_TYPE_HASH
        assertThat(spec.flags()).isEqualTo(1); // BPF_F_NO_PREALLOC
        assertThat(spec.maxEntries()).isEqualTo(524_288);
        assertThat(AuthMapLayout.DEFAULT_PIN_PATH).hasToString("/sys/fs/bpf/tc/globals/cilium_auth_map");
    }

    @ParameterizedTest(name = "size {0} refused")
    @CsvSource({"0", "255", "16777217"})
    void mapSizeOutsideCiliumBoundsIsRefused(int size) {
        assertThatThrownBy(() -> AuthMapLayout.spec(size))
                .isInstanceOf(IllegalArgumentException.class)
                .hasMessageContaining("256..16777216");
    }

    @Test
    void keyFieldsAreRangeChecked() {
        assertThatThrownBy(() -> new AuthKey(-1, 1, 0, AuthType.SPIRE)).hasMessageContaining("localIdentity");
        assertThatThrownBy(() -> new AuthKey(1, 1L << 32, 0, AuthType.SPIRE)).hasMessageContaining("remoteIdentity");
        assertThatThrownBy(() -> new AuthKey(1, 1, 65_536, AuthType.SPIRE)).hasMessageContaining("remoteNodeId");
        assertThatThrownBy(() -> new AuthType(256)).hasMessageContaining("0..255");
    }

    @ParameterizedTest(name = "\"{0}\" parses to code {1}")
    @CsvSource({"disabled, 0", "spire, 1", "SPIRE, 1", "test-always-fail, 2", "7, 7"})
    void authTypeParsesCiliumNames(String text, int code) {
        assertThat(AuthType.parse(text).code()).isEqualTo(code);
    }

    @Test
    void authTypeRejectsUnknownNames() {
        assertThatThrownBy(() -> AuthType.parse("mtls"))
                .hasMessageContaining("unknown auth type 'mtls'")
                .hasMessageContaining("disabled, spire, test-always-fail");
    }
}
