package dev.meshauth.bench;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthMapLayout;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.auth.UTime;
import dev.meshauth.bpf.map.BatchException;
import dev.meshauth.bpf.map.BpfMap;
import dev.meshauth.bpf.map.MapSpec;
import dev.meshauth.bpf.map.UpdateFlag;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.concurrent.TimeUnit;

/**
 * Writing N auth entries into an auth-layout map: batch update in chunks of 4096 vs one
 * BPF_MAP_UPDATE_ELEM per entry. {@code mode=fill} writes into an empty map (new keys: the kernel
 * allocates each element, as the map is BPF_F_NO_PREALLOC); {@code mode=overwrite} rewrites keys that
 * are already there (refreshing expirations, the agent's steady state). Scores are per whole run;
 * divide by {@code size} for the per-entry cost.
 */
@BenchmarkMode(Mode.SingleShotTime)
@OutputTimeUnit(TimeUnit.MILLISECONDS)
@Warmup(iterations = 2)
@Measurement(iterations = 5)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class AuthMapBatchBench {
    private static final int CHUNK = 4096;

    @Param({"1000", "100000", "1000000"})
    public int size;

    @Param({"fill", "overwrite"})
    public String mode;

    private Arena arena;
    private MemorySegment keys;
    private MemorySegment values;
    private BpfMap map;

    @Setup(Level.Trial)
    public void prepare() {
        arena = Arena.ofShared();
        keys = arena.allocate(12L * size, 8);
        values = arena.allocate(8L * size, 8);
        AuthInfo info = new AuthInfo(new UTime(1L << 50));
        for (int i = 0; i < size; i++) {
            AuthMapLayout.KEY_CODEC.encode(new AuthKey(256 + i, 1000 + (i & 1023), i & 0xFFFF, AuthType.SPIRE), keys, 12L * i);
            AuthMapLayout.VALUE_CODEC.encode(info, values, 8L * i);
        }
    }

    @Setup(Level.Invocation)
    public void freshMap() throws BpfException {
        MapSpec spec = AuthMapLayout.spec(AuthMapLayout.MAX_ENTRIES).withMaxEntries(Math.max(size, 1 << 8));
        map = BpfMap.create(spec);
        if (mode.equals("overwrite")) {
            try {
                batchUpdate();
            } catch (BatchException e) {
                throw new IllegalStateException(e);
            }
        }
    }

    @TearDown(Level.Invocation)
    public void dropMap() {
        map.close();
    }

    @TearDown(Level.Trial)
    public void release() {
        arena.close();
    }

    @Benchmark
    public int batchUpdate() throws BatchException {
        int done = 0;
        for (int start = 0; start < size; start += CHUNK) {
            int n = Math.min(CHUNK, size - start);
            done += map.updateBatch(keys.asSlice(12L * start), values.asSlice(8L * start), n, UpdateFlag.ANY);
        }
        return done;
    }

    @Benchmark
    public int singleUpdates() throws BpfException {
        for (int i = 0; i < size; i++) {
            map.update(keys.asSlice(12L * i, 12), values.asSlice(8L * i, 8), UpdateFlag.ANY);
        }
        return size;
    }
}
