package dev.meshauth.bpf.map;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.Errno;

/** A batch operation the kernel stopped part way, with how many elements it had processed. */
public final class BatchException extends Exception {
    private static final long serialVersionUID = 1L;

    private final transient BpfException failure;
    private final int processed;

    BatchException(BpfException failure, int processed) {
        super(failure.getMessage() + " (after " + processed + " elements)", failure);
        this.failure = failure;
        this.processed = processed;
    }

    /** The kernel's refusal. */
    public BpfException failure() {
        return failure;
    }

    /** Elements processed before the refusal. */
    public int processed() {
        return processed;
    }

    /** True when the refusal means "this map type or kernel has no batch operations", not a data problem. */
    public boolean batchUnsupported() {
        return processed == 0 && (failure.is(Errno.EINVAL) || failure.is(Errno.ENOTSUPP)
                || failure.is(Errno.EOPNOTSUPP));
    }
}
