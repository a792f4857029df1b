package dev.meshauth.bpf.datapath;

import java.time.Duration;
import java.util.List;

/**
 * Sizes and timing of the standalone datapath.
 *
 * @param ipcacheEntries    ipcache capacity (prefixes)
 * @param endpointEntries   identities with ingress policy
 * @param policyEntries     policy map capacity
 * @param signalRateEntries keys tracked for signal rate limiting (LRU)
 * @param ringBufferBytes   ring buffer size: a power of two, a multiple of the page size
 * @param signalInterval    at most one auth-required record per key per this interval
 * @param lookupOrder       the policy map probes, most specific first (the policy engine's order)
 */
public record DatapathOptions(int ipcacheEntries, int endpointEntries, int policyEntries, int signalRateEntries,
        int ringBufferBytes, Duration signalInterval, List<LookupStep> lookupOrder) {
    /**
     * The defaults (64k prefixes and policy entries, 4k endpoints, 16k rate keys, 256 KiB ring, 1 s) for
     * a program that probes in {@code lookupOrder}: the order has no default, it is the policy engine's.
     */
    public static DatapathOptions defaults(List<LookupStep> lookupOrder) {
        return new DatapathOptions(65_536, 4_096, 65_536, 16_384, 256 * 1024, Duration.ofSeconds(1), lookupOrder);
    }

    /** Checks the ring buffer size, interval and lookup order. */
    public DatapathOptions {
        lookupOrder = LookupStep.checkOrder(lookupOrder);
        if (Integer.bitCount(ringBufferBytes) != 1 || ringBufferBytes < 4096) {
            throw new IllegalArgumentException("ring buffer size must be a power of two of at least 4096, got "
                    + ringBufferBytes);
        }
        if (signalInterval.isNegative()) {
            throw new IllegalArgumentException("signal interval must not be negative");
        }
    }

    /** The same options with another signal interval. */
    public DatapathOptions withSignalInterval(Duration interval) {
        return new DatapathOptions(ipcacheEntries, endpointEntries, policyEntries, signalRateEntries,
                ringBufferBytes, interval, lookupOrder);
    }
}
