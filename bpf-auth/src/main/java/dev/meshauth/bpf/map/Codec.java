package dev.meshauth.bpf.map;

import java.lang.foreign.MemorySegment;

/**
 * Converts a Java value to and from the bytes of a kernel struct.
 *
 * @param <T> the Java type
 */
public interface Codec<T> {
    /** Size of the encoded struct in bytes. */
    int size();

    /** Writes {@code value} at {@code offset} of {@code dst}, all {@link #size()} bytes (padding zeroed). */
    void encode(T value, MemorySegment dst, long offset);

    /** Reads a value from {@code offset} of {@code src}. */
    T decode(MemorySegment src, long offset);
}
