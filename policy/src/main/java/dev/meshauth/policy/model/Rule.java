package dev.meshauth.policy.model;

import java.util.List;
import java.util.Optional;

/**
 * One ingress/egress (or deny) rule of a policy.
 *
 * @param direction  ingress or egress
 * @param deny       from ingressDeny/egressDeny: drops, never requires authentication
 * @param peers      the peers meshauth can identify
 * @param ports      toPorts flattened; empty: every port. A rule whose toPorts name only ports meshauth
 *                   cannot resolve (named ports) has {@code portsResolved} false and matches nothing
 * @param portsResolved false if toPorts were given but none could be used
 * @param auth       the rule's authentication.mode, if set (explicit), else default
 * @param index      position in its section, for "why" output
 * @param unenforced what of this rule meshauth's standalone datapath does not enforce, one line each
 *                   ("file:line: spec.ingress[0].toFQDNs: ..."); the rest of the rule stands
 */
public record Rule(Direction direction, boolean deny, Peers peers, List<PortProtocol> ports, boolean portsResolved,
        Optional<AuthMode> auth, int index, List<String> unenforced) {
    /** Copies. */
    public Rule {
        ports = List.copyOf(ports);
        unenforced = List.copyOf(unenforced);
    }

    /** The auth type this rule demands (default: disabled). */
    public AuthType authType() {
        return auth.map(AuthMode::type).orElse(AuthType.DISABLED);
    }

    /** True if the rule can match no packet meshauth sees: no identifiable peer, or no usable port. */
    public boolean matchesNothing() {
        return !portsResolved || (!peers.any() && peers.endpoints().isEmpty() && peers.entities().isEmpty());
    }
}
