package dev.meshauth.bpf.map;

import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.Arguments;
import org.junit.jupiter.params.provider.MethodSource;
import org.junit.jupiter.api.Test;

import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** What MapSpec refuses before the kernel would answer a bare EINVAL, and how it compares layouts. */
class MapSpecTest {

    static Stream<Arguments> invalidSpecs() {
        return Stream.of(
                Arguments.of("name longer than 15 characters", (Runnable) () ->
                        MapSpec.of("cilium_auth_map_x", MapType.HASH, 4, 4, 1, 0), "at most 15 characters"),
                Arguments.of("name with a dash", (Runnable) () ->
                        MapSpec.of("auth-map", MapType.HASH, 4, 4, 1, 0), "letters, digits"),
                Arguments.of("zero capacity", (Runnable) () ->
                        MapSpec.of("m", MapType.HASH, 4, 4, 0, 0), "maxEntries must be positive"),
                Arguments.of("zero key size", (Runnable) () ->
                        MapSpec.of("m", MapType.HASH, 0, 4, 1, 0), "key and value sizes"),
                Arguments.of("LPM trie without NO_PREALLOC", (Runnable) () ->
                        MapSpec.of("m", MapType.LPM_TRIE, 8, 4, 1, 0), "requires BPF_F_NO_PREALLOC"));
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("invalidSpecs")
    void refusesWhatTheKernelWouldRefuse(String name, Runnable make, String message) {
        assertThatThrownBy(make::run).isInstanceOf(IllegalArgumentException.class).hasMessageContaining(message);
    }

    @Test
    void comparesTypeSizesAndFlagsButNotCapacity() {
        MapSpec spec = MapSpec.of("auth", MapType.HASH, 12, 8, 1024, MapFlags.NO_PREALLOC);
        assertThat(spec.mismatches(new MapInfo(1, 9, 12, 8, 99, 1, "auth", 0))).isEmpty();
        assertThat(spec.mismatches(new MapInfo(9, 9, 16, 4, 1024, 0, "auth", 0))).containsExactly(
                "type lru_hash (expected hash)", "key size 16 (expected 12)", "value size 4 (expected 8)",
                "flags 0x0 (expected 0x1)");
        assertThat(spec.mismatches(new MapInfo(42, 9, 12, 8, 1024, 1, "x", 0))).containsExactly(
                "type type 42 (expected hash)");
    }
}
