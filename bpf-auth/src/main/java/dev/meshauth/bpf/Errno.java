package dev.meshauth.bpf;

import java.util.HashMap;
import java.util.Map;

/**
 * Linux errno values that bpf(2) and the libc calls used here return, with their symbols.
 *
 * <p>Numbers are the generic Linux ones (asm-generic/errno-base.h, errno.h), identical on x86_64 and
 * aarch64. {@code ENOTSUPP} (524) is kernel-internal but leaks out of bpf(2) for unsupported map ops.
 */
public enum Errno {
    EPERM(1, "Operation not permitted"),
    ENOENT(2, "No such file or directory"),
    ESRCH(3, "No such process"),
    EINTR(4, "Interrupted system call"),
    EIO(5, "I/O error"),
    E2BIG(7, "Argument list too long"),
    EBADF(9, "Bad file descriptor"),
    EAGAIN(11, "Resource temporarily unavailable"),
    ENOMEM(12, "Out of memory"),
    EACCES(13, "Permission denied"),
    EFAULT(14, "Bad address"),
    EBUSY(16, "Device or resource busy"),
    EEXIST(17, "File exists"),
    EXDEV(18, "Cross-device link"),
    ENODEV(19, "No such device"),
    ENOTDIR(20, "Not a directory"),
    EISDIR(21, "Is a directory"),
    EINVAL(22, "Invalid argument"),
    EMFILE(24, "Too many open files"),
    ENOSPC(28, "No space left on device"),
    EROFS(30, "Read-only file system"),
    ERANGE(34, "Result too large"),
    ENAMETOOLONG(36, "File name too long"),
    ENOSYS(38, "Function not implemented"),
    ENOTEMPTY(39, "Directory not empty"),
    ELOOP(40, "Too many levels of symbolic links"),
    EOPNOTSUPP(95, "Operation not supported"),
    ENOTSUPP(524, "Operation not supported (kernel-internal ENOTSUPP)");

    private static final Map<Integer, Errno> BY_NUMBER = new HashMap<>();

    static {
        for (Errno e : values()) {
            BY_NUMBER.put(e.number, e);
        }
    }

    private final int number;
    private final String description;

    Errno(int number, String description) {
        this.number = number;
        this.description = description;
    }

    /** The numeric errno. */
    public int number() {
        return number;
    }

    /** strerror-style text. */
    public String description() {
        return description;
    }

    /** Returns the symbol for {@code number}, or {@code null} for a value this table does not name. */
    public static Errno of(int number) {
        return BY_NUMBER.get(number);
    }

    /** "EPERM" for a known value, "errno 123" for an unknown one. */
    public static String symbol(int number) {
        Errno e = of(number);
        return e == null ? "errno " + number : e.name();
    }
}
