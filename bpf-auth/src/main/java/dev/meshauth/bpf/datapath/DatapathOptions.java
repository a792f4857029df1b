package dev.meshauth.bpf.datapath;

import java.time.Duration;

/**
 * Sizes and timing of the standalone datapath.
 *
 * @param ipcacheEntries    ipcache capacity (prefixes)
 * @param endpointEntries   identities with ingress policy
 * @param policyEntries     policy map capacity
 * @param signalRateEntries keys tracked for signal rate limiting (LRU)
 * @param ringBufferBytes   ring buffer size: a power of two, a multiple of the page size
 * @param signalInterval    at most one auth-required record per key per this interval
 */
public record DatapathOptions(int ipcacheEntries, int endpointEntries, int policyEntries, int signalRateEntries,
        int ringBufferBytes, Duration signalInterval) {
    /** The defaults: 64k prefixes and policy entries, 4k endpoints, 16k rate keys, 256 KiB ring, 1 s. */
    public static final DatapathOptions DEFAULTS = new DatapathOptions(65_536, 4_096, 65_536, 16_384, 256 * 1024,
            Duration.ofSeconds(1));

    /** Checks the ring buffer size and interval. */
    public DatapathOptions {
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
                ringBufferBytes, interval);
    }
}
