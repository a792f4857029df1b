package dev.meshauth.bpf.auth;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.Errno;
import dev.meshauth.bpf.map.UpdateFlag;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import org.junit.jupiter.api.extension.RegisterExtension;
import org.junit.jupiter.params.ParameterizedTest;
import org.junit.jupiter.params.provider.MethodSource;

import java.time.Instant;
import java.util.HashSet;
import java.util.List;
import java.util.Set;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.function.Supplier;
import java.util.stream.Stream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/**
 * One contract, both backends: the in-memory auth map must behave exactly like the kernel one, errors
 * included. Kernel-tagged because half of its rows need bpf(2).
 */
@KernelTest
class AuthMapContractKernelTest {
    private static final AtomicInteger SEQ = new AtomicInteger();
    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();

    interface Backend extends Supplier<AuthMap> {
    }

    static Stream<Backend> backends() {
        Backend kernel = new Backend() {
            @Override
            public AuthMap get() {
                try {
                    return KernelAuthMap.openOrCreate(bpffs.resolve("contract/auth_" + SEQ.incrementAndGet()), 256);
                } catch (BpfException e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public String toString() {
                return "kernel";
            }
        };
        Backend memory = new Backend() {
            @Override
            public AuthMap get() {
                return new InMemoryAuthMap(256);
            }

            @Override
            public String toString() {
                return "memory";
            }
        };
        return Stream.of(kernel, memory);
    }

    private static final Instant T = Instant.parse("2026-11-26T12:00:00.123456789Z");

    private static AuthKey key(int local, int remote) {
        return new AuthKey(local, remote, 3, AuthType.SPIRE);
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void storesAndReturnsEntriesTruncatedToTheTick(Backend backend) throws Exception {
        try (AuthMap m = backend.get()) {
            m.put(key(1000, 2000), AuthInfo.expiringAt(T));
            assertThat(m.get(key(1000, 2000))).map(AuthInfo::expiresAt).contains(Instant.parse("2026-11-26T12:00:00.123456512Z"));
            assertThat(m.get(key(2000, 1000))).isEmpty();
            assertThat(m.get(new AuthKey(1000, 2000, 3, AuthType.TEST_ALWAYS_FAIL))).as("auth type is part of the key").isEmpty();
            assertThat(m.get(new AuthKey(1000, 2000, 4, AuthType.SPIRE))).as("node id is part of the key").isEmpty();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void updateFlagsGiveTheKernelsErrors(Backend backend) throws Exception {
        try (AuthMap m = backend.get()) {
            m.put(key(1, 2), AuthInfo.expiringAt(T), UpdateFlag.NOEXIST);
            assertThatThrownBy(() -> m.put(key(1, 2), AuthInfo.expiringAt(T), UpdateFlag.NOEXIST))
                    .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.is(Errno.EEXIST)).isTrue());
            assertThatThrownBy(() -> m.put(key(5, 6), AuthInfo.expiringAt(T), UpdateFlag.EXIST))
                    .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.is(Errno.ENOENT)).isTrue());
            m.put(key(1, 2), AuthInfo.expiringAt(T.plusSeconds(60)), UpdateFlag.EXIST);
            assertThat(m.get(key(1, 2))).map(AuthInfo::expiresAt).contains(UTime.fromInstant(T.plusSeconds(60)).toInstant());
            assertThat(m.get(key(5, 6))).isEmpty();
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void fullMapRefusesNewKeysWithE2big(Backend backend) throws Exception {
        try (AuthMap m = backend.get()) {
            for (int i = 0; i < m.maxEntries(); i++) {
                m.put(key(i + 1, 7), AuthInfo.expiringAt(T));
            }
            m.put(key(1, 7), AuthInfo.expiringAt(T.plusSeconds(1))); // replace still works
            assertThatThrownBy(() -> m.put(key(100_000, 7), AuthInfo.expiringAt(T)))
                    .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.is(Errno.E2BIG)).isTrue())
                    .hasMessageContaining("the map is full");
        }
    }

    @ParameterizedTest(name = "{0}")
    @MethodSource("backends")
    void listsDeletesAndFlushes(Backend backend) throws Exception {
        try (AuthMap m = backend.get()) {
            Set<AuthKey> keys = new HashSet<>();
            for (int i = 0; i < 50; i++) {
                AuthKey k = new AuthKey(256 + i, 0xFFFF_FF00L + i, i, i % 2 == 0 ? AuthType.SPIRE : AuthType.TEST_ALWAYS_FAIL);
                keys.add(k);
                m.put(k, AuthInfo.expiringAt(T.plusSeconds(i)));
            }
            List<AuthEntry> entries = m.entries();
            assertThat(entries).extracting(AuthEntry::key).containsExactlyInAnyOrderElementsOf(keys);
            assertThat(entries).allSatisfy(e -> assertThat(e.info().expiresAt())
                    .isEqualTo(UTime.fromInstant(T.plusSeconds(e.key().remoteNodeId())).toInstant()));
            AuthKey first = keys.iterator().next();
            assertThat(m.delete(first)).isTrue();
            assertThat(m.delete(first)).isFalse();
            assertThat(m.flush()).isEqualTo(49);
            assertThat(m.entries()).isEmpty();
            assertThat(m.flush()).isZero();
        }
    }
}
