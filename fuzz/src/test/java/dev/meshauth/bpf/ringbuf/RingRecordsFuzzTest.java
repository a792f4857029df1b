package dev.meshauth.bpf.ringbuf;

import com.code_intelligence.jazzer.api.FuzzedDataProvider;
import com.code_intelligence.jazzer.junit.FuzzTest;
import dev.meshauth.bpf.datapath.DatapathSignal;

import java.lang.foreign.MemorySegment;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;

/**
 * A ring buffer's memory as the kernel could leave it, however corrupt: positions and a 128-byte ring
 * (mapped twice) from the input, every record parsed as an auth signal. The walk never reads outside
 * the ring, never goes backwards or past the producer, ends, and only typed refusals come out of the
 * signal parser.
 */
class RingRecordsFuzzTest {
    private static final long SIZE = 128;

    @FuzzTest(maxDuration = "30s")
    void ringRecords(FuzzedDataProvider in) {
        long cons = in.consumeLong(0, 4 * SIZE);
        long prod = in.consumeBoolean() ? cons + in.consumeLong(0, 2 * SIZE) : in.consumeLong();
        MemorySegment data = MemorySegment.ofArray(new long[(int) (2 * SIZE / 8)]);
        byte[] ring = in.consumeRemainingAsBytes();
        for (int i = 0; i < Math.min(ring.length, SIZE); i++) {
            data.set(JAVA_BYTE, i, ring[i]);
            data.set(JAVA_BYTE, SIZE + i, ring[i]); // the second mapping
        }
        long[] last = {cons};
        RingRecords.Walk w = RingRecords.walk(data, SIZE, cons, prod, record -> {
            try {
                DatapathSignal.parse(record);
            } catch (IllegalArgumentException expected) {
                // not a datapath record: logged and dropped by the ring buffer reader
            }
        }, c -> {
            if (c < last[0] || (c > prod && prod >= cons)) {
                throw new AssertionError("consumer moved from " + last[0] + " to " + c + " (producer " + prod + ")");
            }
            last[0] = c;
        });
        if (w.consumer() < cons && prod >= cons) {
            throw new AssertionError("went backwards: " + w);
        }
    }
}
