package dev.meshauth.agent.node;

import java.util.Optional;

/**
 * Where the mutual-auth listener binds ({@code --mesh-auth-mutual-listen-address}). Cilium's listens on
 * every address ({@code :4250}) and its client dials any address it knows for a node (InternalIP,
 * ExternalIP, CiliumInternalIP), so that is the default.
 */
public sealed interface ListenAddress {
    /** Every address, IPv4 and IPv6 (a dual-stack wildcard socket). */
    record AllAddresses() implements ListenAddress {
    }

    /** The node's InternalIP only: several agents on one host (the demo, tests), one address each. */
    record NodeAddress() implements ListenAddress {
    }

    /** One address. */
    record Of(String address) implements ListenAddress {
    }

    /** The host to bind on the node whose InternalIP is {@code nodeIp}; empty for every address. */
    default Optional<String> host(String nodeIp) {
        return switch (this) {
            case AllAddresses a -> Optional.empty();
            case NodeAddress n -> Optional.of(nodeIp);
            case Of o -> Optional.of(o.address());
        };
    }
}
