package dev.meshauth.bpf.auth;

import java.nio.file.Path;
import java.time.Instant;

/**
 * A second process for {@link KernelAuthMapKernelTest}: opens the pinned auth map, prints every entry
 * as "local remote node type expiration", then adds one entry.
 */
public final class PinnedAuthMapProbe {
    private PinnedAuthMapProbe() {
    }

    public static void main(String[] args) throws Exception {
        try (KernelAuthMap m = KernelAuthMap.openExisting(Path.of(args[0]), false)) {
            for (AuthEntry e : m.entries()) {
                System.out.println(e.key().localIdentity() + " " + e.key().remoteIdentity() + " "
                        + e.key().remoteNodeId() + " " + e.key().authType() + " " + e.info().expiresAt());
            }
            if (args.length > 1 && args[1].equals("put")) {
                m.put(new AuthKey(Long.parseLong(args[2]), Long.parseLong(args[3]), Integer.parseInt(args[4]),
                        AuthType.SPIRE), AuthInfo.expiringAt(Instant.parse("2026-11-26T13:00:00Z")));
            }
        }
    }
}
