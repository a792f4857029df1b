package dev.meshauth.policy.model;

import java.util.EnumSet;
import java.util.List;
import java.util.Set;

/**
 * Whom a rule admits (ingress) or reaches (egress), in the terms meshauth can enforce.
 *
 * @param any       every peer: the rule has no L3 field but restricts ports (an L4-only rule), or names the
 *                  entity {@code all}
 * @param endpoints fromEndpoints / toEndpoints selectors
 * @param entities  fromEntities / toEntities (other than {@code all})
 */
public record Peers(boolean any, List<EndpointSelector> endpoints, Set<Entity> entities) {
    /** Every peer. */
    public static final Peers ANY = new Peers(true, List.of(), Set.of());
    /** No peer meshauth can identify (an empty rule, or only CIDR, FQDN, service, node or group peers). */
    public static final Peers NONE = new Peers(false, List.of(), Set.of());

    /** Copies. */
    public Peers {
        endpoints = List.copyOf(endpoints);
        entities = entities.isEmpty() ? Set.of() : Set.copyOf(EnumSet.copyOf(entities));
    }

    /** True if the entity {@code cluster} is named: every endpoint of the cluster is a peer. */
    public boolean allEndpoints() {
        return entities.contains(Entity.CLUSTER);
    }
}
