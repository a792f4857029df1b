package dev.meshauth.spire.delegated;

import io.spiffe.spiffeid.TrustDomain;
import spire.api.types.SelectorOuterClass.Selector;

import java.nio.file.Path;
import java.util.List;

/**
 * How the node agent subscribes to its workloads' SVIDs.
 *
 * @param adminSocket     the SPIRE agent's admin socket ({@code admin_socket_path})
 * @param trustDomain     the trust domain SVIDs must belong to
 * @param selectors       the delegate selectors (default {@code cilium:mutual-auth})
 * @param maxMessageBytes largest full-state update accepted (default 32 MiB; gRPC's own default is 4 MiB)
 */
public record DelegatedIdentityOptions(Path adminSocket, TrustDomain trustDomain, List<Selector> selectors,
        int maxMessageBytes) {
    /** Default selector: what Cilium's operator puts on identity entries. */
    public static final Selector MUTUAL_AUTH = Selector.newBuilder().setType("cilium").setValue("mutual-auth").build();

    /** Checks there is at least one selector. */
    public DelegatedIdentityOptions {
        selectors = List.copyOf(selectors);
        if (selectors.isEmpty()) {
            throw new IllegalArgumentException("at least one selector is needed");
        }
        if (maxMessageBytes < 4 << 20) {
            throw new IllegalArgumentException("max message size below gRPC's 4 MiB default: " + maxMessageBytes);
        }
    }

    /** Defaults for {@code adminSocket} and {@code trustDomain}. */
    public static DelegatedIdentityOptions defaults(Path adminSocket, TrustDomain td) {
        return new DelegatedIdentityOptions(adminSocket, td, List.of(MUTUAL_AUTH), 32 << 20);
    }
}
