package dev.meshauth.bpf.datapath;

import java.time.Duration;
import java.util.List;

/**
 * Sizes and timing of the standalone datapath.
 *
 * @param ipcacheEntries    ipcache capacity (prefixes, IPv4 and IPv6)
 * @param endpointEntries   identities with a policy
 * @param policyEntries     policy map capacity
 * @param signalRateEntries keys tracked for signal rate limiting (LRU)
 * @param ringBufferBytes   ring buffer size: a power of two, a multiple of the page size
 * @param signalInterval    at most one auth-required record per key per this interval
 * @param lookupOrder       the policy map probes (the policy engine's order)
 * @param conntrackEntries  connection tracking capacity (LRU: the least recently used go first)
 * @param fragmentEntries   datagrams whose later fragments are awaited (LRU)
 * @param timeouts          conntrack timeouts
 * @param holdSyns          hand each TCP SYN dropped for a missing auth entry to user space ({@link HeldSyn})
 */
public record DatapathOptions(int ipcacheEntries, int endpointEntries, int policyEntries, int signalRateEntries,
        int ringBufferBytes, Duration signalInterval, List<LookupStep> lookupOrder, int conntrackEntries,
        int fragmentEntries, ConntrackTimeouts timeouts, boolean holdSyns) {
    /** Policy map capacity by default: Cilium's {@code --bpf-policy-map-max} default. */
    public static final int DEFAULT_POLICY_ENTRIES = 16_384;
    /** Conntrack capacity by default: Cilium's {@code --bpf-ct-global-any-max} default. */
    public static final int DEFAULT_CONNTRACK_ENTRIES = 262_144;

    /**
     * The defaults (64k prefixes, 4k endpoints, 16k policy entries, 16k rate keys, 256 KiB ring, 1 s, 256k
     * connections, 8k fragmented datagrams, Cilium's timeouts, SYNs held) for a program that probes in
     * {@code lookupOrder}: the order has no default, it is the policy engine's.
     */
    public static DatapathOptions defaults(List<LookupStep> lookupOrder) {
        return new DatapathOptions(65_536, 4_096, DEFAULT_POLICY_ENTRIES, 16_384, 256 * 1024, Duration.ofSeconds(1),
                lookupOrder, DEFAULT_CONNTRACK_ENTRIES, 8_192, ConntrackTimeouts.DEFAULTS, true);
    }

    /** Checks the sizes, interval and lookup order. */
    public DatapathOptions {
        lookupOrder = LookupStep.checkOrder(lookupOrder);
        if (Integer.bitCount(ringBufferBytes) != 1 || ringBufferBytes < 4096) {
            throw new IllegalArgumentException("ring buffer size must be a power of two of at least 4096, got "
                    + ringBufferBytes);
        }
        if (signalInterval.isNegative()) {
            throw new IllegalArgumentException("signal interval must not be negative");
        }
        for (int n : new int[] {ipcacheEntries, endpointEntries, policyEntries, signalRateEntries, conntrackEntries,
                fragmentEntries}) {
            if (n <= 0) {
                throw new IllegalArgumentException("map sizes must be positive, got " + n);
            }
        }
    }

    /** The same options with another signal interval. */
    public DatapathOptions withSignalInterval(Duration interval) {
        return new DatapathOptions(ipcacheEntries, endpointEntries, policyEntries, signalRateEntries, ringBufferBytes,
                interval, lookupOrder, conntrackEntries, fragmentEntries, timeouts, holdSyns);
    }

    /** The same options with another policy map capacity. */
    public DatapathOptions withPolicyEntries(int entries) {
        return new DatapathOptions(ipcacheEntries, endpointEntries, entries, signalRateEntries, ringBufferBytes,
                signalInterval, lookupOrder, conntrackEntries, fragmentEntries, timeouts, holdSyns);
    }

    /** The same options with another conntrack capacity and timeouts. */
    public DatapathOptions withConntrack(int entries, ConntrackTimeouts t) {
        return new DatapathOptions(ipcacheEntries, endpointEntries, policyEntries, signalRateEntries, ringBufferBytes,
                signalInterval, lookupOrder, entries, fragmentEntries, t, holdSyns);
    }

    /** The same options with SYNs held or not. */
    public DatapathOptions withHeldSyns(boolean on) {
        return new DatapathOptions(ipcacheEntries, endpointEntries, policyEntries, signalRateEntries, ringBufferBytes,
                signalInterval, lookupOrder, conntrackEntries, fragmentEntries, timeouts, on);
    }
}
