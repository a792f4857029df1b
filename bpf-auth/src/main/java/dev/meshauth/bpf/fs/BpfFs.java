package dev.meshauth.bpf.fs;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.sys.Native;

import java.io.IOException;
import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.nio.file.Files;
import java.nio.file.Path;

import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * The BPF filesystem (bpffs): where maps are pinned so they outlive the process that made them.
 *
 * <p>Pinning only works on bpffs, and the kernel's answer for a path elsewhere is a bare EPERM or
 * EACCES. So paths are checked here first, with statfs, and refused with a message that says which
 * filesystem the path is on and how to mount bpffs.
 */
public final class BpfFs {
    /** {@code BPF_FS_MAGIC} from include/uapi/linux/magic.h. */
    public static final long BPF_FS_MAGIC = 0xcafe4a11L;
    /** The conventional mount point, and the root of Cilium's pin paths. */
    public static final Path DEFAULT_MOUNT = Path.of("/sys/fs/bpf");

    private static final int STATFS_SIZE = 256; // struct statfs is 120 bytes on 64-bit Linux; f_type is at 0
    private static final int MNT_DETACH = 2;

    private BpfFs() {
    }

    /** The filesystem magic ({@code statfs.f_type}) of the filesystem holding {@code path}. */
    public static long filesystemMagic(Path path) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = Native.allocateCapture(arena);
            MemorySegment buf = arena.allocate(STATFS_SIZE, 8);
            if (Native.statfs(capture, arena.allocateFrom(path.toString()), buf) != 0) {
                throw BpfException.syscall("statfs", path.toString(), Native.errno(capture));
            }
            return buf.get(JAVA_LONG, 0);
        }
    }

    /** True if {@code path} exists and lies on a bpffs mount. */
    public static boolean isOnBpfFs(Path path) throws BpfException {
        return Files.exists(path) && filesystemMagic(path) == BPF_FS_MAGIC;
    }

    /** Mounts bpffs at {@code mountPoint} unless one is already there; creates the directory if needed. */
    public static void ensureMounted(Path mountPoint) throws BpfException {
        if (isOnBpfFs(mountPoint)) {
            return;
        }
        try {
            Files.createDirectories(mountPoint);
        } catch (IOException e) {
            throw BpfException.of("mount bpffs", mountPoint.toString(), "cannot create the mount point: " + e);
        }
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = Native.allocateCapture(arena);
            MemorySegment fs = arena.allocateFrom("bpf");
            if (Native.mount(capture, fs, arena.allocateFrom(mountPoint.toString()), fs, 0L, MemorySegment.NULL) != 0) {
                throw BpfException.syscall("mount bpffs", mountPoint.toString(), Native.errno(capture));
            }
        }
    }

    /** Unmounts whatever is mounted at {@code mountPoint} (lazily, like {@code umount -l}). */
    public static void unmount(Path mountPoint) throws BpfException {
        try (Arena arena = Arena.ofConfined()) {
            MemorySegment capture = Native.allocateCapture(arena);
            if (Native.umount2(capture, arena.allocateFrom(mountPoint.toString()), MNT_DETACH) != 0) {
                throw BpfException.syscall("umount bpffs", mountPoint.toString(), Native.errno(capture));
            }
        }
    }

    /**
     * Makes sure a pin can be created at {@code pinPath}: its nearest existing ancestor must be on bpffs,
     * then any missing directories below it are created (bpffs supports mkdir, as Cilium's
     * {@code tc/globals} shows). Nothing is created when the check fails.
     *
     * @throws BpfException if the path is not on bpffs, naming the filesystem it is on
     */
    public static void preparePinDirectory(Path pinPath) throws BpfException {
        Path dir = pinPath.toAbsolutePath().getParent();
        Path existing = dir;
        while (existing != null && !Files.exists(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            throw BpfException.of("pin", pinPath.toString(), "no existing parent directory");
        }
        requireBpfFs(existing, pinPath, "pin");
        try {
            Files.createDirectories(dir);
        } catch (IOException e) {
            throw BpfException.of("pin", pinPath.toString(), "cannot create directory " + dir + ": " + e);
        }
    }

    /**
     * Refuses a pin path that is not on bpffs, before any bpf(2) call sees it.
     *
     * @throws BpfException naming the filesystem the path is on and how to mount bpffs
     */
    public static void requirePinnedOnBpfFs(Path pinPath) throws BpfException {
        Path existing = pinPath.toAbsolutePath().getParent();
        while (existing != null && !Files.isDirectory(existing)) {
            existing = existing.getParent();
        }
        if (existing == null) {
            return;
        }
        // The nearest existing directory tells: on bpffs, a missing pin is the kernel's plain ENOENT;
        // elsewhere (typically /sys/fs/bpf with nothing mounted) say that no bpffs is there.
        requireBpfFs(existing, pinPath, "open pinned map");
    }

    private static void requireBpfFs(Path probe, Path pinPath, String operation) throws BpfException {
        long magic = filesystemMagic(probe);
        if (magic == BPF_FS_MAGIC) {
            return;
        }
        String what = FilesystemNames.describe(magic);
        if (probe.equals(DEFAULT_MOUNT)) {
            throw BpfException.of(operation, pinPath.toString(), "no bpffs is mounted at " + DEFAULT_MOUNT
                    + " (it is plain " + what + "), so nothing can be pinned there yet: mount one with"
                    + " `mount -t bpf bpf " + DEFAULT_MOUNT + "` (the meshauth agent does this when it creates the map)");
        }
        throw BpfException.of(operation, pinPath.toString(), probe + " is not on a bpffs mount (filesystem " + what
                + "); BPF objects can only be pinned on bpffs: use a path under " + DEFAULT_MOUNT
                + " or mount one with `mount -t bpf bpf DIR`");
    }
}
