package dev.meshauth.spire.entry;

import io.spiffe.spiffeid.SpiffeId;

import java.util.Map;
import java.util.Objects;
import java.util.Set;
import java.util.TreeSet;

/** How identity entries are laid out over the nodes' SPIRE agents. */
public sealed interface EntryLayout {
    /**
     * The entries wanted for the identities in {@code hosts}, each with the nodes hosting one of its endpoints.
     *
     * @throws IllegalArgumentException if a node's parent cannot be rendered (a UID the source lacks)
     */
    Set<Registration> registrations(Map<Long, Set<NodeRef>> hosts);

    /** True if an entry with {@code parent} (and the operator's selector and an identity path) is the operator's. */
    boolean owns(SpiffeId parent);

    /**
     * Cilium's layout: one entry per identity under one parent (Cilium's {@code /cilium-operator}) that every
     * SPIRE agent is aliased to, so every node holds every identity's key (cilium#31430). For compatibility.
     *
     * @param parent the parent of every identity entry
     */
    record ClusterWide(SpiffeId parent) implements EntryLayout {
        /** Requires a parent. */
        public ClusterWide {
            Objects.requireNonNull(parent);
        }

        @Override
        public Set<Registration> registrations(Map<Long, Set<NodeRef>> hosts) {
            Set<Registration> out = new TreeSet<>();
            hosts.keySet().forEach(id -> out.add(new Registration(id, parent)));
            return out;
        }

        @Override
        public boolean owns(SpiffeId p) {
            return p.equals(parent);
        }
    }

    /**
     * Least privilege: one entry per identity per node hosting an endpoint of it, parented to that node
     * ({@code template}), so a node's SPIRE agent issues only the identities it hosts. Entries under the
     * cluster-wide parent are the operator's too, and go: while they stay, every node still holds every key.
     *
     * @param template      the parent of a node's entries
     * @param clusterParent the cluster-wide layout's parent, whose identity entries are removed
     */
    record NodeScoped(ParentTemplate template, SpiffeId clusterParent) implements EntryLayout {
        /** Requires both. */
        public NodeScoped {
            Objects.requireNonNull(template);
            Objects.requireNonNull(clusterParent);
        }

        /** A node the template cannot name (its UID unknown) gets no entries; the others are not held back. */
        @Override
        public Set<Registration> registrations(Map<Long, Set<NodeRef>> hosts) {
            Set<Registration> out = new TreeSet<>();
            Map<String, String> unnamed = new java.util.TreeMap<>();
            hosts.forEach((id, nodes) -> nodes.forEach(n -> {
                try {
                    out.add(new Registration(id, template.parentOf(n)));
                } catch (IllegalArgumentException e) {
                    unnamed.putIfAbsent(n.name(), e.getMessage());
                }
            }));
            unnamed.forEach((node, why) -> LOG.atError().addKeyValue("node", node).addKeyValue("error", why)
                    .log("no SPIRE entries for this node's identities: its parent ID cannot be rendered; with {nodeUID},"
                            + " is its CiliumNode owned by its Node?"));
            return out;
        }

        @Override
        public boolean owns(SpiffeId p) {
            return p.equals(clusterParent) || template.renders(p);
        }

        private static final org.slf4j.Logger LOG = org.slf4j.LoggerFactory.getLogger(EntryLayout.class);
    }
}
