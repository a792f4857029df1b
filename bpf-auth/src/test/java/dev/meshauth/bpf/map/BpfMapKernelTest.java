package dev.meshauth.bpf.map;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.Errno;
import dev.meshauth.bpf.testing.KernelTest;
import dev.meshauth.bpf.testing.ScratchBpfFs;
import org.junit.jupiter.api.Test;
import org.junit.jupiter.api.extension.RegisterExtension;

import java.nio.file.Files;
import java.nio.file.Path;
import java.util.ArrayList;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.Future;
import java.util.stream.IntStream;

import static org.assertj.core.api.Assertions.assertThat;
import static org.assertj.core.api.Assertions.assertThatThrownBy;

/** Real bpf(2): hash and LPM maps, pins, flags, iteration, batches, concurrency. */
@KernelTest
class BpfMapKernelTest {
    @RegisterExtension
    static final ScratchBpfFs bpffs = new ScratchBpfFs();

    private static TypedMap<Integer, Long> hash(String name, int max) throws BpfException {
        return new TypedMap<>(BpfMap.create(MapSpec.of(name, MapType.HASH, 4, 8, max, MapFlags.NO_PREALLOC)),
                IntCodec.U32, IntCodec.U64);
    }

    @Test
    void createdMapReportsItsLayout() throws Exception {
        try (BpfMap m = BpfMap.create(MapSpec.of("layout_probe", MapType.HASH, 4, 8, 100, MapFlags.NO_PREALLOC))) {
            MapInfo info = m.info();
            assertThat(info.type()).isEqualTo(MapType.HASH.number());
            assertThat(info.keySize()).isEqualTo(4);
            assertThat(info.valueSize()).isEqualTo(8);
            assertThat(info.maxEntries()).isEqualTo(100);
            assertThat(info.flags()).isEqualTo(MapFlags.NO_PREALLOC);
            assertThat(info.name()).isEqualTo("layout_probe");
            assertThat(info.id()).isPositive();
        }
    }

    @Test
    void pinnedMapIsSharedBetweenHandles() throws Exception {
        Path pin = bpffs.resolve("shared/deeper/map_a");
        MapSpec spec = MapSpec.of("map_a", MapType.HASH, 4, 8, 64, MapFlags.NO_PREALLOC);
        try (var first = new TypedMap<>(BpfMap.createOrOpenPinned(spec, pin), IntCodec.U32, IntCodec.U64)) {
            first.put(7, 700L, UpdateFlag.NOEXIST);
            try (var second = new TypedMap<>(BpfMap.openPinned(pin, spec, false), IntCodec.U32, IntCodec.U64)) {
                assertThat(second.raw().info().id()).isEqualTo(first.raw().info().id());
                assertThat(second.get(7)).contains(700L);
                second.put(8, 800L, UpdateFlag.ANY);
            }
            assertThat(first.get(8)).contains(800L);
        }
        // Every handle closed: the pin alone keeps the map and its entries.
        try (var again = new TypedMap<>(BpfMap.createOrOpenPinned(spec, pin), IntCodec.U32, IntCodec.U64)) {
            assertThat(again.entries()).containsExactlyInAnyOrderEntriesOf(Map.of(7, 700L, 8, 800L));
        }
    }

    @Test
    void updateFlagsFollowKernelSemantics() throws Exception {
        try (var m = hash("flags", 16)) {
            m.put(1, 10L, UpdateFlag.NOEXIST);
            assertThatThrownBy(() -> m.put(1, 11L, UpdateFlag.NOEXIST))
                    .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.is(Errno.EEXIST)).isTrue())
                    .hasMessageContaining("BPF_MAP_UPDATE_ELEM on map flags: EEXIST");
            assertThat(m.get(1)).contains(10L);
            assertThatThrownBy(() -> m.put(2, 20L, UpdateFlag.EXIST))
                    .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.is(Errno.ENOENT)).isTrue());
            assertThat(m.get(2)).isEmpty();
            m.put(1, 12L, UpdateFlag.EXIST);
            m.put(1, 13L, UpdateFlag.ANY);
            assertThat(m.get(1)).contains(13L);
            assertThat(m.remove(1)).isTrue();
            assertThat(m.remove(1)).isFalse();
        }
    }

    @Test
    void fullMapRefusesInsertWithE2bigAndSaysSo() throws Exception {
        try (var m = hash("full", 4)) {
            for (int i = 0; i < 4; i++) {
                m.put(i, (long) i, UpdateFlag.ANY);
            }
            m.put(0, 99L, UpdateFlag.ANY); // replacing in a full map is fine
            assertThatThrownBy(() -> m.put(4, 4L, UpdateFlag.ANY))
                    .hasMessageContaining("E2BIG")
                    .hasMessageContaining("the map is full");
        }
    }

    @Test
    void iteratesOneHundredThousandEntriesByKeyAndByBatch() throws Exception {
        int n = 100_000;
        try (var m = hash("iter100k", n)) {
            Map<Integer, Long> expected = new HashMap<>();
            for (int i = 0; i < n; i++) {
                expected.put(i * 7 + 1, (long) i * 1_000_003L);
            }
            m.putAll(expected, UpdateFlag.ANY);
            assertThat(m.usesSingleOperationFallback()).as("BPF_ANY batch updates run as batches").isFalse();

            List<Integer> keys = m.keys();
            assertThat(keys).hasSize(n);
            assertThat(new HashSet<>(keys)).isEqualTo(expected.keySet());

            assertThat(m.entries()).isEqualTo(expected);
        }
    }

    @Test
    void batchDeleteSkipsAbsentKeysAndCountsRemovals() throws Exception {
        try (var m = hash("batchdel", 10_000)) {
            Map<Integer, Long> data = new HashMap<>();
            IntStream.range(0, 10_000).forEach(i -> data.put(i, (long) i));
            m.putAll(data, UpdateFlag.ANY);
            List<Integer> toRemove = new ArrayList<>();
            for (int i = 0; i < 10_000; i += 2) {
                toRemove.add(i);
            }
            toRemove.add(50_000); // absent: must be skipped, not abort the batch
            toRemove.add(50_001);
            assertThat(m.removeAll(toRemove)).isEqualTo(5_000);
            Map<Integer, Long> left = m.entries();
            assertThat(left).hasSize(5_000).allSatisfy((k, v) -> assertThat(k % 2).isEqualTo(1));
            assertThat(m.clear()).isEqualTo(5_000);
            assertThat(m.entries()).isEmpty();
        }
    }

    @Test
    void batchUpdateStopsAtTheFirstRefusedElement() throws Exception {
        try (var m = hash("batchnoex", 100)) {
            m.put(50, -1L, UpdateFlag.ANY);
            Map<Integer, Long> data = new java.util.LinkedHashMap<>();
            IntStream.range(0, 100).forEach(i -> data.put(i, (long) i));
            assertThatThrownBy(() -> m.putAll(data, UpdateFlag.NOEXIST)).hasMessageContaining("EEXIST");
            // The kernel takes only BPF_ANY as batch elem_flags: NOEXIST ran element by element.
            assertThat(m.usesSingleOperationFallback()).isTrue();
            assertThat(m.get(50)).contains(-1L); // the existing entry was not overwritten
            assertThat(m.get(49)).contains(49L); // elements before the refusal were written
        }
    }

    @Test
    void lpmTrieStoresPrefixesAndMatchesLongestPrefix() throws Exception {
        MapSpec spec = MapSpec.of("lpm_v4", MapType.LPM_TRIE, 8, 8, 1024, MapFlags.NO_PREALLOC);
        try (var m = new TypedMap<>(BpfMap.create(spec), IntCodec.LPM_V4, IntCodec.U64)) {
            Map<IntCodec.Prefix, Long> data = new HashMap<>();
            data.put(IntCodec.Prefix.of(198, 18, 0, 0, 15), 1L);
            data.put(IntCodec.Prefix.of(198, 18, 1, 0, 24), 2L);
            data.put(IntCodec.Prefix.of(198, 18, 1, 7, 32), 3L);
            m.putAll(data, UpdateFlag.ANY);
            assertThat(m.entries()).isEqualTo(data);
            // A /32 lookup returns the longest matching prefix's value.
            assertThat(m.get(IntCodec.Prefix.of(198, 18, 1, 7, 32))).contains(3L);
            assertThat(m.get(IntCodec.Prefix.of(198, 18, 1, 9, 32))).contains(2L);
            assertThat(m.get(IntCodec.Prefix.of(198, 19, 200, 1, 32))).contains(1L);
            assertThat(m.get(IntCodec.Prefix.of(10, 0, 0, 1, 32))).isEmpty();
            assertThat(m.clear()).isEqualTo(3);
        }
    }

    @Test
    void concurrentWritersLoseNothing() throws Exception {
        int threads = 8;
        int perThread = 5_000;
        try (var m = hash("concurrent", threads * perThread + 1); ExecutorService pool = Executors.newFixedThreadPool(threads)) {
            List<Future<?>> futures = new ArrayList<>();
            for (int t = 0; t < threads; t++) {
                int base = t * perThread;
                futures.add(pool.submit(() -> {
                    for (int i = 0; i < perThread; i++) {
                        m.put(base + i, (long) (base + i) * 3, UpdateFlag.NOEXIST);
                        m.put(-1, (long) base, UpdateFlag.ANY); // contended key
                    }
                    return null;
                }));
            }
            for (Future<?> f : futures) {
                f.get();
            }
            Map<Integer, Long> all = m.entries();
            assertThat(all).hasSize(threads * perThread + 1);
            for (int k = 0; k < threads * perThread; k++) {
                assertThat(all.get(k)).as("key %d", k).isEqualTo((long) k * 3);
            }
            assertThat(all.get(-1) % perThread).isZero(); // one of the writers' last values, never torn
        }
    }

    @Test
    void wrongLayoutPinnedMapIsRefusedAndLeftUntouched() throws Exception {
        Path pin = bpffs.resolve("wrong_layout");
        try (var other = new TypedMap<>(BpfMap.create(MapSpec.of("not_auth", MapType.HASH, 4, 8, 16, 0)),
                IntCodec.U32, IntCodec.U64)) {
            other.put(1, 42L, UpdateFlag.ANY);
            other.raw().pin(pin);
        }
        MapSpec expected = MapSpec.of("cilium_auth_map", MapType.HASH, 12, 8, 1024, MapFlags.NO_PREALLOC);
        assertThatThrownBy(() -> BpfMap.createOrOpenPinned(expected, pin))
                .isInstanceOf(BpfException.class)
                .hasMessageContaining("does not have the layout of cilium_auth_map")
                .hasMessageContaining("key size 4 (expected 12)")
                .hasMessageContaining("flags 0x0 (expected 0x1)")
                .hasMessageContaining("nothing was changed");
        try (var again = new TypedMap<>(BpfMap.openPinned(pin, false), IntCodec.U32, IntCodec.U64)) {
            assertThat(again.entries()).isEqualTo(Map.of(1, 42L));
        }
    }

    @Test
    void pinOutsideBpffsIsRefusedBeforeAnythingIsCreated() throws Exception {
        Path tmp = Files.createTempDirectory("meshauth-not-bpffs");
        Path pin = tmp.resolve("sub/dir/map");
        try (BpfMap m = BpfMap.create(MapSpec.of("nobpffs", MapType.HASH, 4, 8, 4, 0))) {
            assertThatThrownBy(() -> m.pin(pin))
                    .hasMessageContaining("is not on a bpffs mount (filesystem ")
                    .hasMessageContaining("mount -t bpf bpf DIR");
            assertThat(tmp.resolve("sub")).doesNotExist();
            assertThatThrownBy(() -> BpfMap.openPinned(tmp.resolve("x"), false))
                    .hasMessageContaining("is not on a bpffs mount");
        } finally {
            Files.deleteIfExists(tmp);
        }
    }

    @Test
    void kernelRefusalOfAMapSpecIsReportedWithTheCommand() {
        // A ring buffer's size must be a power-of-two multiple of the page size; 1000 is not.
        assertThatThrownBy(() -> BpfMap.create(MapSpec.of("bad_ringbuf", MapType.RINGBUF, 0, 0, 1000, 0)))
                .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.is(Errno.EINVAL)).isTrue())
                .hasMessageStartingWith("BPF_MAP_CREATE on map bad_ringbuf: EINVAL (Invalid argument): the kernel"
                        + " rejected the arguments");
    }

    @Test
    void invalidBtfIsRefusedWithTheKernelsLog() {
        byte[] garbage = new byte[] {(byte) 0x9f, (byte) 0xeb, 1, 0, 24, 0, 0, 0, 0, 0, 0, 0, 12, 0, 0, 0,
            12, 0, 0, 0, 1, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0, 0};
        assertThatThrownBy(() -> dev.meshauth.bpf.btf.Btf.load(garbage, 1, 1, "broken"))
                .isInstanceOf(BpfException.class)
                .hasMessageStartingWith("BPF_BTF_LOAD on BTF for map broken: EINVAL")
                .hasMessageContaining("kernel BTF log:");
    }

    @Test
    void missingPinSaysNothingIsPinnedThere() {
        Path pin = bpffs.resolve("absent_map");
        assertThatThrownBy(() -> BpfMap.openPinned(pin, true))
                .isInstanceOfSatisfying(BpfException.class, e -> assertThat(e.is(Errno.ENOENT)).isTrue())
                .hasMessage("BPF_OBJ_GET on " + pin + ": ENOENT (No such file or directory): nothing is pinned at"
                        + " that path: is the agent that creates it running, and is the path right?");
    }

    @Test
    void readOnlyHandleCannotWrite() throws Exception {
        Path pin = bpffs.resolve("ro_map");
        MapSpec spec = MapSpec.of("ro_map", MapType.HASH, 4, 8, 4, 0);
        try (BpfMap rw = BpfMap.createOrOpenPinned(spec, pin);
                var ro = new TypedMap<>(BpfMap.openPinned(pin, spec, true), IntCodec.U32, IntCodec.U64)) {
            assertThatThrownBy(() -> ro.put(1, 1L, UpdateFlag.ANY))
                    .hasMessageContaining("EPERM")
                    .hasMessageContaining("a read-only handle cannot change it");
            assertThat(rw.info().id()).isEqualTo(ro.raw().info().id());
        }
    }
}
