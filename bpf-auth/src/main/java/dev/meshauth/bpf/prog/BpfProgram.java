package dev.meshauth.bpf.prog;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.Errno;
import dev.meshauth.bpf.asm.Program;
import dev.meshauth.bpf.sys.BpfCall;
import dev.meshauth.bpf.sys.BpfCommand;
import dev.meshauth.bpf.sys.Fd;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.charset.StandardCharsets;
import java.util.Map;

import static dev.meshauth.bpf.sys.BpfAttrs.GET_ID;
import static dev.meshauth.bpf.sys.BpfAttrs.OBJ_GET_INFO_BY_FD;
import static dev.meshauth.bpf.sys.BpfAttrs.PROG_INFO;
import static dev.meshauth.bpf.sys.BpfAttrs.PROG_LOAD;
import static dev.meshauth.bpf.sys.BpfAttrs.PROG_TEST_RUN;
import static dev.meshauth.bpf.sys.BpfAttrs.offset;
import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A program loaded into the kernel ({@code BPF_PROG_LOAD}), by fd.
 *
 * <p>Loading first runs without a verifier log (fast path); if the kernel refuses, it loads again with
 * the log on so the exception carries the verifier's explanation, next to our disassembly.
 */
public final class BpfProgram implements AutoCloseable {
    private static final int LOG_SIZE = 1 << 20;
    private static final int LOG_SIZE_MAX = 16 << 20;
    private static final int LOG_TAIL_LINES = 40;

    private final Fd fd;
    private final String name;

    private BpfProgram(Fd fd, String name) {
        this.fd = fd;
        this.name = name;
    }

    /**
     * Loads {@code program} with the given map fds, GPL-licensed (helpers such as ringbuf_output need it).
     *
     * @param name at most 15 characters of {@code [A-Za-z0-9_]}
     * @throws BpfException with the verifier log and the disassembly if the kernel refuses
     */
    public static BpfProgram load(String name, ProgramType type, Program program, Map<String, Integer> mapFds)
            throws BpfException {
        if (!name.matches("[A-Za-z0-9_]{1,15}")) {
            throw new IllegalArgumentException("program name '" + name + "' must be 1 to 15 of [A-Za-z0-9_]");
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment insns = program.toSegment(arena, mapFds);
            MemorySegment license = arena.allocateFrom("GPL");
            long r = attempt(type, program, insns, license, name, MemorySegment.NULL, 0);
            if (r >= 0) {
                return new BpfProgram(new Fd((int) r), name);
            }
            int size = LOG_SIZE;
            while (true) {
                MemorySegment log = arena.allocate(size);
                long again = attempt(type, program, insns, license, name, log, size);
                if (again >= 0) {
                    return new BpfProgram(new Fd((int) again), name); // a transient failure the second time round
                }
                if (again == -Errno.ENOSPC.number() && size < LOG_SIZE_MAX) {
                    size *= 4;
                    continue;
                }
                String verifier = log.getString(0, StandardCharsets.UTF_8);
                throw BpfException.syscall(BpfCommand.PROG_LOAD.kernelName(), "program " + name, (int) -again,
                        "verifier log (last " + LOG_TAIL_LINES + " lines):\n" + tail(verifier)
                                + "\nprogram (" + program.slotCount() + " instructions):\n" + program);
            }
        }
    }

    private static long attempt(ProgramType type, Program program, MemorySegment insns, MemorySegment license,
            String name, MemorySegment log, int logSize) {
        return BpfCall.begin(BpfCommand.PROG_LOAD)
                .putInt(offset(PROG_LOAD, "prog_type"), type.number())
                .putInt(offset(PROG_LOAD, "insn_cnt"), program.slotCount())
                .putAddress(offset(PROG_LOAD, "insns"), insns)
                .putAddress(offset(PROG_LOAD, "license"), license)
                .putInt(offset(PROG_LOAD, "log_level"), logSize > 0 ? 1 : 0)
                .putInt(offset(PROG_LOAD, "log_size"), logSize)
                .putAddress(offset(PROG_LOAD, "log_buf"), log)
                .putBytes(offset(PROG_LOAD, "prog_name"), name.getBytes(StandardCharsets.US_ASCII))
                .invoke();
    }

    private static String tail(String log) {
        String[] lines = log.strip().split("\n");
        int from = Math.max(0, lines.length - LOG_TAIL_LINES);
        return String.join("\n", java.util.Arrays.copyOfRange(lines, from, lines.length));
    }

    /**
     * Runs the program once per repetition on {@code packet} ({@code BPF_PROG_TEST_RUN}).
     *
     * @throws BpfException if the kernel refuses (for example a packet shorter than an Ethernet header)
     */
    public TestRunResult testRun(byte[] packet, int repeat) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(Math.max(1, packet.length));
            MemorySegment.copy(packet, 0, in, JAVA_BYTE, 0, packet.length);
            int outSize = packet.length + 256;
            MemorySegment out = arena.allocate(outSize);
            BpfCall call = BpfCall.begin(BpfCommand.PROG_TEST_RUN)
                    .putInt(offset(PROG_TEST_RUN, "prog_fd"), fd.get())
                    .putInt(offset(PROG_TEST_RUN, "data_size_in"), packet.length)
                    .putInt(offset(PROG_TEST_RUN, "data_size_out"), outSize)
                    .putAddress(offset(PROG_TEST_RUN, "data_in"), in)
                    .putAddress(offset(PROG_TEST_RUN, "data_out"), out)
                    .putInt(offset(PROG_TEST_RUN, "repeat"), repeat);
            call.invokeOrThrow("program " + name);
            int retval = call.getInt(offset(PROG_TEST_RUN, "retval"));
            int duration = call.getInt(offset(PROG_TEST_RUN, "duration"));
            int outLen = Math.min(call.getInt(offset(PROG_TEST_RUN, "data_size_out")), outSize);
            return new TestRunResult(retval, duration, out.asSlice(0, outLen).toArray(JAVA_BYTE));
        }
    }

    /** {@code BPF_F_TEST_XDP_LIVE_FRAMES}: frames go where the XDP program sends them, not back to the caller. */
    private static final int TEST_XDP_LIVE_FRAMES = 1 << 1;
    /** {@code struct xdp_md}: data, data_end, data_meta, ingress_ifindex, rx_queue_index, egress_ifindex. */
    private static final int XDP_MD_SIZE = 24;
    private static final int XDP_MD_DATA_END = 4;
    private static final int XDP_MD_INGRESS_IFINDEX = 12;

    /**
     * Runs this XDP program on {@code frame} as a live frame received on {@code ifindex} of the calling
     * thread's network namespace ({@code BPF_PROG_TEST_RUN} with {@code BPF_F_TEST_XDP_LIVE_FRAMES}, Linux
     * 5.18+): a frame the program passes enters the stack as if that interface had received it, tc ingress
     * first.
     *
     * @throws BpfException if the kernel refuses (no such interface, not an XDP program, a frame shorter
     *                      than an Ethernet header)
     */
    public void runLive(byte[] frame, int ifindex) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment in = arena.allocate(Math.max(1, frame.length));
            MemorySegment.copy(frame, 0, in, JAVA_BYTE, 0, frame.length);
            MemorySegment ctx = arena.allocate(XDP_MD_SIZE, 4);
            ctx.set(java.lang.foreign.ValueLayout.JAVA_INT, XDP_MD_DATA_END, frame.length);
            ctx.set(java.lang.foreign.ValueLayout.JAVA_INT, XDP_MD_INGRESS_IFINDEX, ifindex);
            BpfCall.begin(BpfCommand.PROG_TEST_RUN)
                    .putInt(offset(PROG_TEST_RUN, "prog_fd"), fd.get())
                    .putInt(offset(PROG_TEST_RUN, "data_size_in"), frame.length)
                    .putAddress(offset(PROG_TEST_RUN, "data_in"), in)
                    .putInt(offset(PROG_TEST_RUN, "ctx_size_in"), XDP_MD_SIZE)
                    .putAddress(offset(PROG_TEST_RUN, "ctx_in"), ctx)
                    .putInt(offset(PROG_TEST_RUN, "flags"), TEST_XDP_LIVE_FRAMES)
                    .putInt(offset(PROG_TEST_RUN, "repeat"), 1)
                    .invokeOrThrow("program " + name + " (live frame on ifindex " + ifindex + ")");
        }
    }

    /** The kernel-wide program id, as {@code bpftool prog show} prints it. */
    public int id() throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment info = arena.allocate(PROG_INFO);
            BpfCall.begin(BpfCommand.OBJ_GET_INFO_BY_FD).putInt(offset(OBJ_GET_INFO_BY_FD, "bpf_fd"), fd.get())
                    .putInt(offset(OBJ_GET_INFO_BY_FD, "info_len"), (int) PROG_INFO.byteSize())
                    .putAddress(offset(OBJ_GET_INFO_BY_FD, "info"), info).invokeOrThrow("program " + name);
            return info.get(java.lang.foreign.ValueLayout.JAVA_INT, offset(PROG_INFO, "id"));
        }
    }

    /** True while the kernel still holds a program with this id (something references it). */
    public static boolean exists(int id) throws BpfException {
        long r = BpfCall.begin(BpfCommand.PROG_GET_FD_BY_ID).putInt(offset(GET_ID, "id"), id).invoke();
        if (r >= 0) {
            new Fd((int) r).close();
            return true;
        }
        if (r == -Errno.ENOENT.number()) {
            return false;
        }
        throw BpfException.syscall(BpfCommand.PROG_GET_FD_BY_ID.kernelName(), "program id " + id, (int) -r);
    }

    /** The program's fd, for attaching. */
    public Fd fd() {
        return fd;
    }

    /** The program's name. */
    public String name() {
        return name;
    }

    @Override
    public void close() {
        fd.close();
    }
}
