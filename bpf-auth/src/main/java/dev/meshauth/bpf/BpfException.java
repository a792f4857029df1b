package dev.meshauth.bpf;

import java.util.OptionalInt;

/**
 * A kernel BPF operation failed: which operation, on which object, why, and what an operator can do.
 *
 * <p>Errno is translated into words in exactly one place, {@link #syscall}, so every failure of a bpf(2)
 * or libc call reads the same way: {@code "BPF_MAP_UPDATE_ELEM on map cilium_auth_map
 * (/sys/fs/bpf/tc/globals/cilium_auth_map): EPERM (Operation not permitted): needs root or CAP_BPF"}.
 */
public class BpfException extends Exception {
    private static final long serialVersionUID = 1L;

    private final String operation;
    private final String object;
    private final int errno;

    /**
     * @param operation the command or call that failed, such as {@code BPF_MAP_CREATE} or {@code open pinned map}
     * @param object what it was applied to, such as {@code map cilium_auth_map (/sys/fs/bpf/...)}
     * @param errno the errno, or 0 when the failure did not come from a system call
     * @param message the full operator-facing message
     */
    protected BpfException(String operation, String object, int errno, String message, Throwable cause) {
        super(message, cause);
        this.operation = operation;
        this.object = object;
        this.errno = errno;
    }

    /** A failure that did not come with an errno: a layout mismatch, a bad argument caught before the call. */
    public static BpfException of(String operation, String object, String problem) {
        return new BpfException(operation, object, 0, operation + " on " + object + ": " + problem, null);
    }

    /** A failed system call; the message names the errno symbol and, for common causes, what to do. */
    public static BpfException syscall(String operation, String object, int errno) {
        return syscall(operation, object, errno, "");
    }

    /** A failed system call with more detail from the kernel (a verifier log), appended on its own lines. */
    public static BpfException syscall(String operation, String object, int errno, String detail) {
        String hint = Hints.forErrno(operation, object, errno);
        Errno e = Errno.of(errno);
        String text = Errno.symbol(errno) + (e == null ? "" : " (" + e.description() + ")");
        String message = operation + " on " + object + ": " + text + (hint.isEmpty() ? "" : ": " + hint)
                + (detail.isBlank() ? "" : "\n" + detail.strip());
        return new BpfException(operation, object, errno, message, null);
    }

    /** The operation that failed. */
    public String operation() {
        return operation;
    }

    /** The object the operation was applied to. */
    public String object() {
        return object;
    }

    /** The errno, if this failure came from a system call. */
    public OptionalInt errno() {
        return errno == 0 ? OptionalInt.empty() : OptionalInt.of(errno);
    }

    /** True if this failure carries the given errno. */
    public boolean is(Errno e) {
        return errno == e.number();
    }
}
