package dev.meshauth.bench;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthInfo;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthMapLayout;
import dev.meshauth.bpf.auth.AuthType;
import dev.meshauth.bpf.auth.UTime;
import dev.meshauth.bpf.map.BpfMap;
import dev.meshauth.bpf.sys.BpfCall;
import dev.meshauth.bpf.sys.BpfCommand;
import dev.meshauth.bpf.map.TypedMap;
import dev.meshauth.bpf.map.UpdateFlag;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.util.Optional;
import java.util.concurrent.TimeUnit;

/**
 * Single-element auth map operations through FFM: the raw layer (caller-owned native segments) and the
 * typed layer (records encoded per call). Compare with bench/c/bpf_baseline.c for the bare syscall.
 */
@BenchmarkMode(Mode.AverageTime)
@OutputTimeUnit(TimeUnit.NANOSECONDS)
@Warmup(iterations = 3, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = "--enable-native-access=ALL-UNNAMED")
@State(Scope.Thread)
public class AuthMapOpsBench {
    private static final int ENTRIES = 100_000;

    private BpfMap raw;
    private TypedMap<AuthKey, AuthInfo> typed;
    private Arena arena;
    private MemorySegment key;
    private MemorySegment value;
    private AuthKey hitKey;
    private AuthInfo info;
    private int next;

    @Setup(Level.Trial)
    public void setUp() throws BpfException {
        raw = BpfMap.create(AuthMapLayout.spec(1 << 20));
        typed = new TypedMap<>(raw, AuthMapLayout.KEY_CODEC, AuthMapLayout.VALUE_CODEC);
        info = new AuthInfo(new UTime(1L << 50));
        for (int i = 0; i < ENTRIES; i++) {
            typed.put(new AuthKey(256 + i, 1000, 1, AuthType.SPIRE), info, UpdateFlag.ANY);
        }
        arena = Arena.ofShared();
        key = arena.allocate(12, 8);
        value = arena.allocate(8, 8);
        hitKey = new AuthKey(256 + ENTRIES / 2, 1000, 1, AuthType.SPIRE);
        AuthMapLayout.KEY_CODEC.encode(hitKey, key, 0);
        AuthMapLayout.VALUE_CODEC.encode(info, value, 0);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        raw.close();
        arena.close();
    }

    /** A lookup on fd -1: the kernel answers EBADF at once, so this is FFM plus the bare syscall round trip. */
    @Benchmark
    public long badFdLookup() {
        return BpfCall.begin(BpfCommand.MAP_LOOKUP_ELEM).putInt(0, -1).putAddress(8, key).putAddress(16, value).invoke();
    }

    @Benchmark
    public boolean rawLookup() throws BpfException {
        return raw.lookup(key, value);
    }

    @Benchmark
    public void rawUpdateExisting() throws BpfException {
        raw.update(key, value, UpdateFlag.ANY);
    }

    @Benchmark
    public Optional<AuthInfo> typedLookup() throws BpfException {
        return typed.get(hitKey);
    }

    @Benchmark
    public void typedUpdateExisting() throws BpfException {
        next = (next + 1) % ENTRIES;
        typed.put(new AuthKey(256 + next, 1000, 1, AuthType.SPIRE), info, UpdateFlag.ANY);
    }
}
