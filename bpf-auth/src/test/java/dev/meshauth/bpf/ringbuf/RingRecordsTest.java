package dev.meshauth.bpf.ringbuf;

import org.junit.jupiter.api.Test;

import java.lang.foreign.MemorySegment;
import java.util.ArrayList;
import java.util.List;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static org.assertj.core.api.Assertions.assertThat;

class RingRecordsTest {
    private static final long SIZE = 64;
    private final MemorySegment data = MemorySegment.ofArray(new long[(int) (2 * SIZE / 8)]); // mapped twice, as the kernel does; 8-aligned as its pages
    private final List<String> got = new ArrayList<>();
    private final List<Long> published = new ArrayList<>();

    /** Writes a record at ring position {@code pos} into both mappings; returns the next position. */
    private long record(long pos, int headerBits, String payload) {
        byte[] p = payload.getBytes();
        for (long copy : new long[] {0, SIZE}) {
            long off = ((pos & (SIZE - 1)) + copy);
            if (off + RingRecords.HDR_SIZE + p.length > 2 * SIZE) {
                continue;
            }
            data.set(JAVA_INT.withByteAlignment(1), off, p.length | headerBits);
            for (int i = 0; i < p.length; i++) {
                data.set(JAVA_BYTE, off + RingRecords.HDR_SIZE + i, p[i]);
            }
        }
        return pos + ((p.length + RingRecords.HDR_SIZE + 7) & ~7L);
    }

    private RingRecords.Walk walk(long cons, long prod) {
        return RingRecords.walk(data, SIZE, cons, prod, r -> got.add(new String(r.toArray(JAVA_BYTE))), published::add);
    }

    @Test
    void committedRecordsAreDeliveredDiscardedOnesSkippedAndAWrapReadsContiguously() {
        long p = record(40, 0, "abcd"); // 40..56
        p = record(p, RingRecords.DISCARD_BIT, "xx"); // 56..72: wraps
        p = record(p, 0, "wrapped!"); // 72..88
        RingRecords.Walk w = walk(40, p);
        assertThat(got).containsExactly("abcd", "wrapped!");
        assertThat(w).isEqualTo(new RingRecords.Walk(p, 2, false));
        assertThat(published).containsExactly(56L, 72L, 88L);
    }

    @Test
    void aBusyRecordStopsTheWalkBeforeIt() {
        long p = record(0, 0, "one");
        long busy = p;
        p = record(p, RingRecords.BUSY_BIT, "two");
        assertThat(walk(0, p)).isEqualTo(new RingRecords.Walk(busy, 1, false));
        assertThat(got).containsExactly("one");
    }

    @Test
    void aLengthLongerThanTheRingIsCorruptAndSkippedNotRead() {
        data.set(JAVA_INT.withByteAlignment(1), 0, 0x3fff_fff0);
        assertThat(walk(0, 16)).isEqualTo(new RingRecords.Walk(16, 0, true));
        assertThat(got).isEmpty();
        assertThat(published).containsExactly(16L);
    }

    @Test
    void aProducerFurtherAheadThanTheRingIsCorruptAndSkippedWithoutLooping() {
        // Zero-length records would take 2^37 steps to reach this producer position.
        assertThat(walk(0, 1L << 40)).isEqualTo(new RingRecords.Walk(1L << 40, 0, true));
        assertThat(walk(100, 50).corrupt()).as("a producer behind the consumer").isTrue();
    }

    @Test
    void aConsumerPositionOffTheEightByteGridIsCorruptNotAnUnalignedRead() {
        // Found by RingRecordsFuzzTest: an IllegalArgumentException from the aligned int read at offset 1.
        assertThat(walk(1, 24)).isEqualTo(new RingRecords.Walk(24, 0, true));
        assertThat(published).containsExactly(24L);
    }
}
