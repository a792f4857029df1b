package dev.meshauth.agent.auth;

import java.util.Optional;
import java.util.Set;

/**
 * What garbage collection judges entries against. A part that is not known yet (an informer not synced)
 * is empty, and its rule is skipped rather than guessed: deleting entries for identities merely not
 * listed yet would cut traffic at every agent restart.
 *
 * @param nodeIds         nodes that exist (node id 0, this node, always does)
 * @param identities      every security identity in the cluster, once synced
 * @param localIdentities identities with an endpoint on this node, once synced
 * @param requiredKnown   true once policies are loaded, so "no policy requires it" can be judged
 */
public record GcScope(Set<Integer> nodeIds, Optional<Set<Long>> identities, Optional<Set<Long>> localIdentities,
        boolean requiredKnown) {
    /** Copies. */
    public GcScope {
        nodeIds = Set.copyOf(nodeIds);
        identities = identities.map(Set::copyOf);
        localIdentities = localIdentities.map(Set::copyOf);
    }
}
