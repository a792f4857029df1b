package dev.meshauth.policy.model;

import java.util.List;
import java.util.Locale;
import java.util.Optional;
import java.util.Set;

/**
 * Cilium's policy entities ({@code fromEntities}/{@code toEntities}, pkg/policy/api/entity.go) and the
 * reserved identities each stands for. {@code cluster} also covers every endpoint identity of the
 * cluster; {@code all} is every peer, world included.
 */
public enum Entity {
    ALL("all"), WORLD("world"), WORLD_IPV4("world-ipv4"), WORLD_IPV6("world-ipv6"), CLUSTER("cluster"), HOST("host"),
    REMOTE_NODE("remote-node"), KUBE_APISERVER("kube-apiserver"), HEALTH("health"), INIT("init"), INGRESS("ingress"),
    UNMANAGED("unmanaged"), NONE("none");

    private final String text;

    Entity(String text) {
        this.text = text;
    }

    /** The entity by its policy name. */
    public static Optional<Entity> parse(String s) {
        for (Entity e : values()) {
            if (e.text.equals(s.toLowerCase(Locale.ROOT))) {
                return Optional.of(e);
            }
        }
        return Optional.empty();
    }

    /** Every policy name, for error messages and suggestions. */
    public static List<String> names() {
        return java.util.Arrays.stream(values()).map(e -> e.text).toList();
    }

    /**
     * The reserved identities (pkg/identity/numericidentity.go) the entity selects: host 1, world 2,
     * unmanaged 3, health 4, init 5, remote-node 6, kube-apiserver 7, ingress 8. {@code cluster} is every
     * reserved identity but world (plus the cluster's endpoints, which the evaluator adds); {@code all} and
     * {@code none} select no reserved identity by number ({@code all} is the wildcard).
     */
    public Set<Long> reservedIdentities() {
        return switch (this) {
            case WORLD, WORLD_IPV4, WORLD_IPV6 -> Set.of(2L);
            case HOST -> Set.of(1L);
            case UNMANAGED -> Set.of(3L);
            case HEALTH -> Set.of(4L);
            case INIT -> Set.of(5L);
            case REMOTE_NODE -> Set.of(6L);
            // kube-apiserver: Cilium also gives it to the host or remote nodes that run the API server
            case KUBE_APISERVER -> Set.of(7L);
            case INGRESS -> Set.of(8L);
            case CLUSTER -> Set.of(1L, 3L, 4L, 5L, 6L, 7L, 8L);
            case ALL, NONE -> Set.of();
        };
    }

    @Override
    public String toString() {
        return text;
    }
}
