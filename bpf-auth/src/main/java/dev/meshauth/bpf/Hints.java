package dev.meshauth.bpf;

/** What an operator can do about the common bpf(2) failures. Package-private: used by {@link BpfException}. */
final class Hints {
    private Hints() {
    }

    static String forErrno(String operation, String object, int errno) {
        Errno e = Errno.of(errno);
        if (e == null) {
            return "";
        }
        boolean pinOp = operation.equals("BPF_OBJ_GET") || operation.equals("BPF_OBJ_PIN");
        return switch (e) {
            case EPERM -> pinOp
                    ? "needs root or CAP_BPF, and the path must be on a bpffs mount (mount -t bpf bpf /sys/fs/bpf)"
                    : operation.startsWith("BPF_MAP_UPDATE") || operation.startsWith("BPF_MAP_DELETE")
                            ? "needs root or CAP_BPF, and a map opened read-write (a read-only handle cannot change it)"
                            : "needs root or CAP_BPF (CAP_SYS_ADMIN on kernels before 5.8); run as root or grant the capability";
            case EACCES -> pinOp
                    ? "the path is not a BPF object, or not on a bpffs mount"
                    : "permission denied: needs root or CAP_BPF";
            case ENOENT -> pinOp
                    ? "nothing is pinned at that path: is the agent that creates it running, and is the path right?"
                    : "no such element";
            case EEXIST -> pinOp ? "something is already pinned at that path; remove it or open it instead" : "the element already exists";
            case E2BIG -> operation.startsWith("BPF_MAP_UPDATE")
                    ? "the map is full (max_entries reached): raise its size or remove stale entries"
                    : "the kernel rejected non-zero bytes past the attributes it knows: this kernel is older than this code expects";
            case EINVAL -> "the kernel rejected the arguments (unsupported map type or flag on this kernel, or a wrong size)";
            case ENOMEM -> "the kernel could not allocate memory for the map (check the memory cgroup limit; before 5.11, RLIMIT_MEMLOCK)";
            case EBADF -> "the file descriptor is closed or not a BPF object";
            case ENOTSUPP, EOPNOTSUPP -> "this map type does not support the operation on this kernel";
            case ENOSYS -> "the kernel was built without bpf(2) (CONFIG_BPF_SYSCALL)";
            default -> "";
        };
    }
}
