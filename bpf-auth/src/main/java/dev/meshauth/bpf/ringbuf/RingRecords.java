package dev.meshauth.bpf.ringbuf;

import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.function.Consumer;
import java.util.function.LongConsumer;

import static java.lang.foreign.ValueLayout.JAVA_INT;

/**
 * Walks the records of a ring buffer's data area, as the kernel lays them out: an 8-byte header (a length
 * with the BUSY and DISCARD bits, then the page offset) and the payload, each rounded up to 8 bytes; the
 * data area mapped twice in a row so a record that wraps reads contiguously. Pure over the memory it is
 * given, so the walk is tested (and fuzzed) on any bytes. The kernel never writes a record longer than
 * the ring, nor a producer position more than the ring ahead of the consumer; if the memory says
 * otherwise the ring is corrupt, and the walk skips to the producer position instead of reading outside
 * the ring or looping for ever.
 */
final class RingRecords {
    static final int BUSY_BIT = 0x8000_0000;
    static final int DISCARD_BIT = 0x4000_0000;
    static final int HDR_SIZE = 8;
    private static final VarHandle INT_ACQ = JAVA_INT.varHandle();

    private RingRecords() {
    }

    /**
     * What one walk did.
     *
     * @param consumer  the new consumer position
     * @param delivered records handed to the listener
     * @param corrupt   whether the walk gave up on corrupt memory (and skipped to the producer position)
     */
    record Walk(long consumer, int delivered, boolean corrupt) {
    }

    /**
     * Delivers every committed record from {@code cons} up to {@code prod}, stopping at the first one not
     * committed yet (BUSY); {@code published} gets the consumer position after each record, so the kernel
     * can reuse its space at once.
     *
     * @param data the data area, mapped twice: {@code 2 * size} bytes
     * @param size the ring's size, a power of two
     */
    static Walk walk(MemorySegment data, long size, long cons, long prod, Consumer<MemorySegment> listener,
            LongConsumer published) {
        if (prod < cons) {
            return new Walk(cons, 0, true); // nothing to read; the consumer never goes back
        }
        if (prod - cons > size || (cons & 7) != 0) { // the kernel keeps positions 8-aligned; ours never move otherwise
            published.accept(prod);
            return new Walk(prod, 0, true);
        }
        int delivered = 0;
        while (cons < prod) {
            long off = cons & (size - 1);
            int len = (int) INT_ACQ.getAcquire(data, off);
            if ((len & BUSY_BIT) != 0) {
                break;
            }
            long payload = len & ~(BUSY_BIT | DISCARD_BIT);
            long next = cons + ((payload + HDR_SIZE + 7) & ~7L);
            if (payload > size - HDR_SIZE || next > prod) {
                published.accept(prod);
                return new Walk(prod, delivered, true);
            }
            if ((len & DISCARD_BIT) == 0) {
                listener.accept(data.asSlice(off + HDR_SIZE, payload));
                delivered++;
            }
            cons = next;
            published.accept(cons);
        }
        return new Walk(cons, delivered, false);
    }
}
