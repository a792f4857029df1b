package dev.meshauth.bpf.map;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.Errno;
import dev.meshauth.bpf.btf.Btf;
import dev.meshauth.bpf.btf.BtfBuilder;
import dev.meshauth.bpf.fs.BpfFs;
import dev.meshauth.bpf.sys.BpfAttrs;
import dev.meshauth.bpf.sys.BpfCall;
import dev.meshauth.bpf.sys.BpfCommand;
import dev.meshauth.bpf.sys.Fd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.nio.file.Path;
import java.util.List;
import java.util.Optional;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * A kernel BPF map by fd: create, pin, open pinned (with a layout check), and the element and batch
 * operations on raw native memory.
 *
 * <p>This is the zero-allocation layer: keys and values are native {@link MemorySegment}s the caller
 * owns. {@link TypedMap} adds codecs on top. All operations are safe to call from many threads; the
 * kernel serialises access per element.
 */
public final class BpfMap implements AutoCloseable {
    private static final long MC_MAP_TYPE = BpfAttrs.offset(BpfAttrs.MAP_CREATE, "map_type");
    private static final long MC_KEY_SIZE = BpfAttrs.offset(BpfAttrs.MAP_CREATE, "key_size");
    private static final long MC_VALUE_SIZE = BpfAttrs.offset(BpfAttrs.MAP_CREATE, "value_size");
    private static final long MC_MAX_ENTRIES = BpfAttrs.offset(BpfAttrs.MAP_CREATE, "max_entries");
    private static final long MC_MAP_FLAGS = BpfAttrs.offset(BpfAttrs.MAP_CREATE, "map_flags");
    private static final long MC_MAP_NAME = BpfAttrs.offset(BpfAttrs.MAP_CREATE, "map_name");
    private static final long MC_BTF_FD = BpfAttrs.offset(BpfAttrs.MAP_CREATE, "btf_fd");
    private static final long MC_BTF_KEY = BpfAttrs.offset(BpfAttrs.MAP_CREATE, "btf_key_type_id");
    private static final long MC_BTF_VALUE = BpfAttrs.offset(BpfAttrs.MAP_CREATE, "btf_value_type_id");
    private static final long ELEM_MAP_FD = BpfAttrs.offset(BpfAttrs.MAP_ELEM, "map_fd");
    private static final long ELEM_KEY = BpfAttrs.offset(BpfAttrs.MAP_ELEM, "key");
    private static final long ELEM_VALUE = BpfAttrs.offset(BpfAttrs.MAP_ELEM, "value");
    private static final long ELEM_FLAGS = BpfAttrs.offset(BpfAttrs.MAP_ELEM, "flags");
    private static final long B_IN = BpfAttrs.offset(BpfAttrs.MAP_BATCH, "in_batch");
    private static final long B_OUT = BpfAttrs.offset(BpfAttrs.MAP_BATCH, "out_batch");
    private static final long B_KEYS = BpfAttrs.offset(BpfAttrs.MAP_BATCH, "keys");
    private static final long B_VALUES = BpfAttrs.offset(BpfAttrs.MAP_BATCH, "values");
    private static final long B_COUNT = BpfAttrs.offset(BpfAttrs.MAP_BATCH, "count");
    private static final long B_MAP_FD = BpfAttrs.offset(BpfAttrs.MAP_BATCH, "map_fd");
    private static final long B_ELEM_FLAGS = BpfAttrs.offset(BpfAttrs.MAP_BATCH, "elem_flags");
    private static final long PIN_PATHNAME = BpfAttrs.offset(BpfAttrs.OBJ_PIN, "pathname");
    private static final long PIN_BPF_FD = BpfAttrs.offset(BpfAttrs.OBJ_PIN, "bpf_fd");
    private static final long PIN_FILE_FLAGS = BpfAttrs.offset(BpfAttrs.OBJ_PIN, "file_flags");
    private static final long INFO_BPF_FD = BpfAttrs.offset(BpfAttrs.OBJ_GET_INFO_BY_FD, "bpf_fd");
    private static final long INFO_LEN = BpfAttrs.offset(BpfAttrs.OBJ_GET_INFO_BY_FD, "info_len");
    private static final long INFO_PTR = BpfAttrs.offset(BpfAttrs.OBJ_GET_INFO_BY_FD, "info");
    private static final long MI_TYPE = BpfAttrs.offset(BpfAttrs.MAP_INFO, "type");
    private static final long MI_ID = BpfAttrs.offset(BpfAttrs.MAP_INFO, "id");
    private static final long MI_KEY_SIZE = BpfAttrs.offset(BpfAttrs.MAP_INFO, "key_size");
    private static final long MI_VALUE_SIZE = BpfAttrs.offset(BpfAttrs.MAP_INFO, "value_size");
    private static final long MI_MAX_ENTRIES = BpfAttrs.offset(BpfAttrs.MAP_INFO, "max_entries");
    private static final long MI_MAP_FLAGS = BpfAttrs.offset(BpfAttrs.MAP_INFO, "map_flags");
    private static final long MI_NAME = BpfAttrs.offset(BpfAttrs.MAP_INFO, "name");
    private static final long MI_BTF_ID = BpfAttrs.offset(BpfAttrs.MAP_INFO, "btf_id");

    private final Fd fd;
    private final MapInfo info;
    private final Optional<Path> pinPath;
    private final String label;

    private BpfMap(Fd fd, MapInfo info, Optional<Path> pinPath) {
        this.fd = fd;
        this.info = info;
        this.pinPath = pinPath;
        this.label = "map " + info.name() + pinPath.map(p -> " (" + p + ")").orElse("");
    }

    /**
     * Creates a map ({@code BPF_MAP_CREATE}), with BTF for key and value if the spec has layouts.
     *
     * @throws BpfException if the kernel refuses (EPERM without CAP_BPF, EINVAL for an unsupported type)
     */
    public static BpfMap create(MapSpec spec) throws BpfException {
        return create(spec, BpfMap::readInfo);
    }

    /** Reads a map's info from its descriptor (production: BPF_OBJ_GET_INFO_BY_FD). */
    @FunctionalInterface
    interface InfoReader {
        MapInfo read(Fd fd, String object) throws BpfException;
    }

    /** As {@link #create(MapSpec)}, reading the new map's info with {@code infoReader} (tests inject a failure). */
    static BpfMap create(MapSpec spec, InfoReader infoReader) throws BpfException {
        String object = "map " + spec.name();
        Btf btf = null;
        try {
            if (spec.keyLayout().isPresent() && spec.valueLayout().isPresent()) {
                BtfBuilder b = new BtfBuilder();
                int keyId = b.struct(spec.keyLayout().get());
                int valueId = b.struct(spec.valueLayout().get());
                btf = Btf.load(b.build(), keyId, valueId, spec.name());
            }
            BpfCall call = BpfCall.begin(BpfCommand.MAP_CREATE)
                    .putInt(MC_MAP_TYPE, spec.type().number())
                    .putInt(MC_KEY_SIZE, spec.keySize())
                    .putInt(MC_VALUE_SIZE, spec.valueSize())
                    .putInt(MC_MAX_ENTRIES, spec.maxEntries())
                    .putInt(MC_MAP_FLAGS, spec.flags())
                    .putBytes(MC_MAP_NAME, spec.name().getBytes(StandardCharsets.US_ASCII));
            if (btf != null) {
                call.putInt(MC_BTF_FD, btf.fd().get()).putInt(MC_BTF_KEY, btf.keyTypeId())
                        .putInt(MC_BTF_VALUE, btf.valueTypeId());
            }
            Fd fd = new Fd((int) call.invokeOrThrow(object));
            try {
                return new BpfMap(fd, infoReader.read(fd, object), Optional.empty());
            } catch (BpfException | RuntimeException e) {
                fd.close(); // created, but nobody would own it
                throw e;
            }
        } finally {
            if (btf != null) {
                btf.close(); // the map holds its own reference to the BTF object
            }
        }
    }

    /**
     * Opens the map pinned at {@code path} and checks it against {@code expected}; a map with another
     * type, key size, value size or flags is refused and left untouched.
     *
     * @param readOnly open with {@code BPF_F_RDONLY}: listing a map needs no write access
     * @throws BpfException if nothing is pinned there, the path is not on bpffs, or the layout differs
     */
    public static BpfMap openPinned(Path path, MapSpec expected, boolean readOnly) throws BpfException {
        BpfMap map = openPinned(path, readOnly);
        List<String> mismatches = expected.mismatches(map.info);
        if (!mismatches.isEmpty()) {
            map.close();
            throw BpfException.of("open pinned map", path.toString(), "the map pinned there ("
                    + map.info.name() + ", id " + map.info.id() + ") does not have the layout of " + expected.name()
                    + ": " + String.join(", ", mismatches) + ". Refusing to use it; nothing was changed. Inspect it with"
                    + " `bpftool map show pinned " + path + "` and remove the pin if it is stale.");
        }
        return map;
    }

    /**
     * Opens whatever map is pinned at {@code path}, without a layout check; see {@link #info()}.
     *
     * @throws BpfException if nothing is pinned there or the path is not on bpffs
     */
    public static BpfMap openPinned(Path path, boolean readOnly) throws BpfException {
        BpfFs.requirePinnedOnBpfFs(path);
        String object = path.toString();
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment pathname = arena.allocateFrom(path.toString());
            long r = BpfCall.begin(BpfCommand.OBJ_GET)
                    .putAddress(PIN_PATHNAME, pathname)
                    .putInt(PIN_FILE_FLAGS, readOnly ? MapFlags.RDONLY : 0)
                    .invokeOrThrow(object);
            Fd fd = new Fd((int) r);
            try {
                return new BpfMap(fd, readInfo(fd, object), Optional.of(path));
            } catch (BpfException e) {
                fd.close();
                throw e;
            }
        }
    }

    /**
     * Opens the map pinned at {@code path} if there is one (checking its layout), otherwise creates it
     * from {@code spec} and pins it there. If another process pins first, its map is opened instead.
     *
     * @throws BpfException as {@link #create}, {@link #pin} and {@link #openPinned(Path, MapSpec, boolean)}
     */
    public static BpfMap createOrOpenPinned(MapSpec spec, Path path) throws BpfException {
        try {
            return openPinned(path, spec, false);
        } catch (BpfException e) {
            if (!e.is(Errno.ENOENT)) {
                throw e;
            }
        }
        BpfMap created = create(spec);
        try {
            created.pin(path);
            return created.withPin(path);
        } catch (BpfException e) {
            created.close();
            if (e.is(Errno.EEXIST)) {
                return openPinned(path, spec, false); // lost a race with another creator: use theirs
            }
            throw e;
        }
    }

    /**
     * Pins the map at {@code path} ({@code BPF_OBJ_PIN}); missing directories on bpffs are created.
     *
     * @throws BpfException if the path is not on bpffs or something is already pinned there
     */
    public void pin(Path path) throws BpfException {
        BpfFs.preparePinDirectory(path);
        try (Arena arena = Arena.ofConfined()) {
            BpfCall.begin(BpfCommand.OBJ_PIN)
                    .putAddress(PIN_PATHNAME, arena.allocateFrom(path.toString()))
                    .putInt(PIN_BPF_FD, fd.get())
                    .invokeOrThrow(label + " -> " + path);
        }
    }

    private BpfMap withPin(Path path) {
        return new BpfMap(fd, info, Optional.of(path));
    }

    private static MapInfo readInfo(Fd fd, String object) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment buf = arena.allocate(BpfAttrs.MAP_INFO);
            BpfCall.begin(BpfCommand.OBJ_GET_INFO_BY_FD)
                    .putInt(INFO_BPF_FD, fd.get())
                    .putInt(INFO_LEN, (int) BpfAttrs.MAP_INFO.byteSize())
                    .putAddress(INFO_PTR, buf)
                    .invokeOrThrow(object);
            String name = buf.asSlice(MI_NAME, 16).getString(0, StandardCharsets.US_ASCII);
            return new MapInfo(buf.get(JAVA_INT, MI_TYPE), buf.get(JAVA_INT, MI_ID), buf.get(JAVA_INT, MI_KEY_SIZE),
                    buf.get(JAVA_INT, MI_VALUE_SIZE), buf.get(JAVA_INT, MI_MAX_ENTRIES), buf.get(JAVA_INT, MI_MAP_FLAGS), name,
                    buf.get(JAVA_INT, MI_BTF_ID));
        }
    }

    /** What the kernel reported about this map when it was opened. */
    public MapInfo info() {
        return info;
    }

    /** Where the map is pinned, if this handle knows. */
    public Optional<Path> pinPath() {
        return pinPath;
    }

    /** "map NAME (PIN)", as used in error messages. */
    public String label() {
        return label;
    }

    /** The map's fd, for programs that reference it. */
    public Fd fd() {
        return fd;
    }

    /**
     * Copies the value for {@code key} into {@code value}.
     *
     * @return false if the key is absent
     */
    public boolean lookup(MemorySegment key, MemorySegment value) throws BpfException {
        long r = elem(BpfCommand.MAP_LOOKUP_ELEM, key, value, 0).invoke();
        return present(r, BpfCommand.MAP_LOOKUP_ELEM);
    }

    /** Writes {@code key -> value} with the given create/replace semantics. */
    public void update(MemorySegment key, MemorySegment value, UpdateFlag flag) throws BpfException {
        elem(BpfCommand.MAP_UPDATE_ELEM, key, value, flag.value()).invokeOrThrow(label);
    }

    /** Removes {@code key}; returns false if it was absent. */
    public boolean delete(MemorySegment key) throws BpfException {
        long r = elem(BpfCommand.MAP_DELETE_ELEM, key, MemorySegment.NULL, 0).invoke();
        return present(r, BpfCommand.MAP_DELETE_ELEM);
    }

    /**
     * Writes the key following {@code key} (or the first key, for {@link MemorySegment#NULL}) into
     * {@code next}. Returns false past the last key.
     */
    public boolean nextKey(MemorySegment key, MemorySegment next) throws BpfException {
        long r = elem(BpfCommand.MAP_GET_NEXT_KEY, key, next, 0).invoke();
        return present(r, BpfCommand.MAP_GET_NEXT_KEY);
    }

    private BpfCall elem(BpfCommand cmd, MemorySegment key, MemorySegment value, long flags) {
        return BpfCall.begin(cmd).putInt(ELEM_MAP_FD, fd.get()).putAddress(ELEM_KEY, key).putAddress(ELEM_VALUE, value)
                .putLong(ELEM_FLAGS, flags);
    }

    private boolean present(long r, BpfCommand cmd) throws BpfException {
        if (r >= 0) {
            return true;
        }
        if (r == -Errno.ENOENT.number()) {
            return false;
        }
        throw BpfException.syscall(cmd.kernelName(), label, (int) -r);
    }

    /**
     * One {@code BPF_MAP_LOOKUP_BATCH} step: up to {@code count} entries into {@code keys}/{@code values},
     * resuming from {@code inBatch} ({@link MemorySegment#NULL} to start) and writing the resume token to
     * {@code outBatch} (at least key-size bytes, opaque).
     *
     * @return entries copied (may be > 0 on the last step) and whether iteration is done
     * @throws BpfException with ENOSPC if {@code count} is smaller than one hash bucket, EINVAL or
     *                      ENOTSUPP if the map type has no batch support
     */
    public BatchStep lookupBatch(MemorySegment inBatch, MemorySegment outBatch, MemorySegment keys,
            MemorySegment values, int count) throws BpfException {
        BpfCall call = BpfCall.begin(BpfCommand.MAP_LOOKUP_BATCH)
                .putAddress(B_IN, inBatch).putAddress(B_OUT, outBatch).putAddress(B_KEYS, keys).putAddress(B_VALUES, values)
                .putInt(B_COUNT, count).putInt(B_MAP_FD, fd.get());
        long r = call.invoke();
        int done = call.getInt(B_COUNT);
        if (r == -Errno.ENOENT.number()) {
            return new BatchStep(done, true);
        }
        if (r < 0) {
            throw BpfException.syscall(BpfCommand.MAP_LOOKUP_BATCH.kernelName(), label, (int) -r);
        }
        return new BatchStep(done, false);
    }

    /**
     * {@code BPF_MAP_UPDATE_BATCH} of {@code count} packed keys and values.
     *
     * @return how many were written before the kernel stopped; equal to {@code count} on success
     * @throws BatchException carrying the processed count when the kernel refuses part way
     */
    public int updateBatch(MemorySegment keys, MemorySegment values, int count, UpdateFlag flag) throws BatchException {
        BpfCall call = BpfCall.begin(BpfCommand.MAP_UPDATE_BATCH)
                .putAddress(B_KEYS, keys).putAddress(B_VALUES, values).putInt(B_COUNT, count).putInt(B_MAP_FD, fd.get())
                .putLong(B_ELEM_FLAGS, flag.value());
        return batchResult(call, BpfCommand.MAP_UPDATE_BATCH);
    }

    /**
     * {@code BPF_MAP_DELETE_BATCH} of {@code count} packed keys. Stops (ENOENT) at the first absent key.
     *
     * @throws BatchException carrying the processed count when the kernel refuses part way
     */
    public int deleteBatch(MemorySegment keys, int count) throws BatchException {
        BpfCall call = BpfCall.begin(BpfCommand.MAP_DELETE_BATCH)
                .putAddress(B_KEYS, keys).putInt(B_COUNT, count).putInt(B_MAP_FD, fd.get());
        return batchResult(call, BpfCommand.MAP_DELETE_BATCH);
    }

    private int batchResult(BpfCall call, BpfCommand cmd) throws BatchException {
        int requested = call.getInt(B_COUNT);
        long r = call.invoke();
        int processed = call.getInt(B_COUNT);
        if (r < 0) {
            // The kernel writes count back only from its per-element loop, which stops before the failing
            // element; a refusal before the loop (EINVAL for elem_flags it does not take) leaves our count.
            if (processed >= requested) {
                processed = 0;
            }
            throw new BatchException(BpfException.syscall(cmd.kernelName(), label, (int) -r), processed);
        }
        return processed;
    }

    @Override
    public void close() {
        fd.close();
    }

    @Override
    public String toString() {
        return label;
    }
}
