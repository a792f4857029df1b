package dev.meshauth.policy.model;

import java.util.List;
import java.util.Optional;

/**
 * One ingress/egress (or deny) rule of a policy.
 *
 * @param direction ingress or egress
 * @param deny      from ingressDeny/egressDeny: drops, never requires authentication
 * @param peers     fromEndpoints / toEndpoints; empty list: no L3 restriction (any peer)
 * @param ports     toPorts flattened; empty: every port
 * @param auth      the rule's authentication.mode, if set (explicit), else default
 * @param index     position in its section, for "why" output
 * @param hasL7     the rule had L7 {@code rules}: parsed and kept, not enforced
 */
public record Rule(Direction direction, boolean deny, List<EndpointSelector> peers, List<PortProtocol> ports,
        Optional<AuthMode> auth, int index, boolean hasL7) {
    /** Copies. */
    public Rule {
        peers = List.copyOf(peers);
        ports = List.copyOf(ports);
    }

    /** The auth type this rule demands (default: disabled). */
    public AuthType authType() {
        return auth.map(AuthMode::type).orElse(AuthType.DISABLED);
    }
}
