package dev.meshauth.bpf.datapath;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;

import java.lang.foreign.StructLayout;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;

/**
 * Every offset and size of the datapath's own structs, written out as the C structs in their comments
 * say, so a layout change is a visible decision (the program and the maps read them from one place).
 */
class DatapathLayoutsTest {
    static Stream<Arguments> fields() {
        return Stream.of(
                row(DatapathCodecs.IPCACHE_KEY, "prefixlen", 0), row(DatapathCodecs.IPCACHE_KEY, "family", 4),
                row(DatapathCodecs.IPCACHE_KEY, "addr", 8),
                row(DatapathCodecs.IPCACHE_VALUE, "sec_identity", 0), row(DatapathCodecs.IPCACHE_VALUE, "node_id", 4),
                row(DatapathCodecs.POLICY_KEY, "prefixlen", 0), row(DatapathCodecs.POLICY_KEY, "local_id", 4),
                row(DatapathCodecs.POLICY_KEY, "remote_id", 8), row(DatapathCodecs.POLICY_KEY, "dir", 12),
                row(DatapathCodecs.POLICY_KEY, "proto", 13), row(DatapathCodecs.POLICY_KEY, "dport", 14),
                row(DatapathCodecs.POLICY_VALUE, "deny", 0), row(DatapathCodecs.POLICY_VALUE, "auth_type", 1),
                row(DatapathCodecs.CT_KEY, "saddr", 0), row(DatapathCodecs.CT_KEY, "daddr", 16),
                row(DatapathCodecs.CT_KEY, "sport", 32), row(DatapathCodecs.CT_KEY, "dport", 34),
                row(DatapathCodecs.CT_KEY, "proto", 36), row(DatapathCodecs.CT_KEY, "family", 37),
                row(DatapathCodecs.CT_VALUE, "expires_ns", 0), row(DatapathCodecs.CT_VALUE, "flags", 8),
                row(DatapathCodecs.FRAG_KEY, "saddr", 0), row(DatapathCodecs.FRAG_KEY, "daddr", 16),
                row(DatapathCodecs.FRAG_KEY, "id", 32), row(DatapathCodecs.FRAG_KEY, "proto", 36),
                row(DatapathCodecs.FRAG_KEY, "family", 37),
                row(DatapathCodecs.FRAG_VALUE, "sport", 0), row(DatapathCodecs.FRAG_VALUE, "dport", 2),
                row(DatapathCodecs.FRAG_VALUE, "policy_port", 4),
                row(DatapathCodecs.SIGNAL_MSG, "signal_nr", 0), row(DatapathCodecs.SIGNAL_MSG, "auth", 4));
    }

    static Stream<Arguments> sizes() {
        return Stream.of(Arguments.of(DatapathCodecs.IPCACHE_KEY, 24), Arguments.of(DatapathCodecs.IPCACHE_VALUE, 8),
                Arguments.of(DatapathCodecs.POLICY_KEY, 16), Arguments.of(DatapathCodecs.POLICY_VALUE, 4),
                Arguments.of(DatapathCodecs.ENDPOINT_KEY, 4), Arguments.of(DatapathCodecs.ENDPOINT_VALUE, 4),
                Arguments.of(DatapathCodecs.CT_KEY, 40), Arguments.of(DatapathCodecs.CT_VALUE, 16),
                Arguments.of(DatapathCodecs.FRAG_KEY, 40), Arguments.of(DatapathCodecs.FRAG_VALUE, 8),
                Arguments.of(DatapathCodecs.SIGNAL_MSG, 16));
    }

    private static Arguments row(StructLayout layout, String field, int offset) {
        return Arguments.of(layout.name().orElseThrow() + "." + field, layout, field, offset);
    }

    @ParameterizedTest(name = "{0} at {3}")
    @MethodSource("fields")
    void offsets(String name, StructLayout layout, String field, int offset) {
        assertThat(DatapathCodecs.offset(layout, field)).isEqualTo(offset);
    }

    @ParameterizedTest(name = "{0} is {1} bytes")
    @MethodSource("sizes")
    void sizes(StructLayout layout, int size) {
        assertThat(layout.byteSize()).isEqualTo(size);
    }

    @ParameterizedTest(name = "prefix bits: {0}")
    @MethodSource("prefixes")
    void policyKeysMatchOnTheirPrefix(String name, PolicyKey key, int bits) {
        assertThat(key.lpmPrefixLen()).isEqualTo(bits);
        assertThat(DatapathCodecs.POLICY_FULL_PREFIX).isEqualTo(8 * (DatapathCodecs.POLICY_KEY.byteSize() - 4));
    }

    static Stream<Arguments> prefixes() {
        return Stream.of(
                Arguments.of("every protocol: identities and direction only", PolicyKey.anyProtocol(1, 2, Direction.INGRESS), 72),
                Arguments.of("every port of TCP", PolicyKey.anyPort(1, 2, 6, Direction.INGRESS), 80),
                Arguments.of("one port", PolicyKey.port(1, 2, 6, 80, Direction.INGRESS), 96),
                Arguments.of("a /14 range", new PolicyKey(1, 2, 6, 80, 14, Direction.INGRESS), 94));
    }
}
