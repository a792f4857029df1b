package dev.meshauth.bpf.btf;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.sys.BpfCall;
import dev.meshauth.bpf.sys.BpfCommand;
import dev.meshauth.bpf.sys.Fd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;

import static dev.meshauth.bpf.sys.BpfAttrs.BTF_LOAD;
import static dev.meshauth.bpf.sys.BpfAttrs.offset;

/**
 * BTF loaded into the kernel, with the type ids a map's key and value refer to.
 *
 * <p>The kernel keeps its own reference once a map is created with it, so this handle can be closed
 * right after map creation.
 */
public final class Btf implements AutoCloseable {
    private static final int LOG_SIZE = 64 * 1024;

    private final Fd fd;
    private final int keyTypeId;
    private final int valueTypeId;

    private Btf(Fd fd, int keyTypeId, int valueTypeId) {
        this.fd = fd;
        this.keyTypeId = keyTypeId;
        this.valueTypeId = valueTypeId;
    }

    /**
     * Loads {@code blob} ({@code BPF_BTF_LOAD}) for the map named {@code mapName}.
     *
     * @throws BpfException with the kernel's BTF verifier log if it rejects the blob
     */
    public static Btf load(byte[] blob, int keyTypeId, int valueTypeId, String mapName) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment data = arena.allocate(blob.length, 8);
            data.copyFrom(MemorySegment.ofArray(blob));
            MemorySegment log = arena.allocate(LOG_SIZE);
            BpfCall call = BpfCall.begin(BpfCommand.BTF_LOAD)
                    .putAddress(offset(BTF_LOAD, "btf"), data)
                    .putAddress(offset(BTF_LOAD, "btf_log_buf"), log)
                    .putInt(offset(BTF_LOAD, "btf_size"), blob.length)
                    .putInt(offset(BTF_LOAD, "btf_log_size"), LOG_SIZE)
                    .putInt(offset(BTF_LOAD, "btf_log_level"), 1);
            long r = call.invoke();
            if (r < 0) {
                String verifier = log.getString(0, StandardCharsets.US_ASCII).strip();
                throw BpfException.syscall(BpfCommand.BTF_LOAD.kernelName(), "BTF for map " + mapName, (int) -r,
                        verifier.isEmpty() ? "" : "kernel BTF log:\n" + verifier);
            }
            return new Btf(new Fd((int) r), keyTypeId, valueTypeId);
        }
    }

    /** The BTF object's fd, for {@code MAP_CREATE.btf_fd}. */
    public Fd fd() {
        return fd;
    }

    /** Type id of the map key struct. */
    public int keyTypeId() {
        return keyTypeId;
    }

    /** Type id of the map value struct. */
    public int valueTypeId() {
        return valueTypeId;
    }

    @Override
    public void close() {
        fd.close();
    }
}
