package dev.meshauth.bpf.map;

/** {@code BPF_ANY}, {@code BPF_NOEXIST}, {@code BPF_EXIST}: how an update treats an existing key. */
public enum UpdateFlag {
    /** Create or replace. */
    ANY(0),
    /** Create only; EEXIST if the key is present. */
    NOEXIST(1),
    /** Replace only; ENOENT if the key is absent. */
    EXIST(2);

    private final long value;

    UpdateFlag(long value) {
        this.value = value;
    }

    /** The flags word passed to the kernel. */
    public long value() {
        return value;
    }
}
