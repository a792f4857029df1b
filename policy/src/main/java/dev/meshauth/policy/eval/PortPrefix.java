package dev.meshauth.policy.eval;

import java.util.ArrayList;
import java.util.List;

/**
 * A destination port range as the fewest port/prefix pairs (as Cilium's policy map stores ranges): a
 * range of n ports is at most 2·log2(n) keys, so evaluation is not linear, let alone quadratic, in ports.
 *
 * @param port the first port, its bits past {@code length} zero
 * @param length leading bits that must match, 0..16
 */
public record PortPrefix(int port, int length) {
    /** The 16-bit mask of {@code length} leading bits. */
    public static int mask(int length) {
        return length == 0 ? 0 : (0xFFFF << (16 - length)) & 0xFFFF;
    }

    /** The prefixes covering exactly {@code from..to} (0..65535), in ascending order. */
    public static List<PortPrefix> of(int from, int to) {
        if (from < 0 || to > 0xFFFF || from > to) {
            throw new IllegalArgumentException("bad port range " + from + "-" + to);
        }
        List<PortPrefix> out = new ArrayList<>();
        long start = from;
        while (start <= to) {
            int size = start == 0 ? 16 : Long.numberOfTrailingZeros(start); // the largest aligned block at start
            while (size > 0 && start + (1L << size) - 1 > to) {
                size--;
            }
            out.add(new PortPrefix((int) start, 16 - size));
            start += 1L << size;
        }
        return out;
    }
}
