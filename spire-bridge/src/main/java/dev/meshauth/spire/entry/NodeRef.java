package dev.meshauth.spire.entry;

import java.util.Objects;
import java.util.Optional;

/**
 * A node that hosts endpoints, as the parent template sees it.
 *
 * @param name its name (Kubernetes Node name)
 * @param uid  its Kubernetes Node UID, if the source knows it (the {@code k8s_psat} agent ID carries it)
 */
public record NodeRef(String name, Optional<String> uid) {
    /** Requires a name. */
    public NodeRef {
        Objects.requireNonNull(uid);
        if (name == null || name.isBlank()) {
            throw new IllegalArgumentException("a node needs a name");
        }
    }

    /** A node known by name only (an endpoints file). */
    public static NodeRef named(String name) {
        return new NodeRef(name, Optional.empty());
    }
}
