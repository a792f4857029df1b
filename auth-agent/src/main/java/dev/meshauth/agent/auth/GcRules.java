package dev.meshauth.agent.auth;

import dev.meshauth.agent.events.GcReason;
import dev.meshauth.bpf.auth.AuthKey;

import java.time.Instant;
import java.util.HashMap;
import java.util.Map;
import java.util.Optional;
import java.util.Set;

/**
 * Garbage collection as pure rules over a snapshot (Cilium's {@code authmap_gc.go}): which entries go,
 * and why. The first rule that matches names the reason; a rule whose input is not synced yet is skipped
 * (see {@link GcScope}).
 */
final class GcRules {
    private GcRules() {
    }

    /**
     * The entries to delete.
     *
     * @param expiries every entry held (the kernel's, reconciled), with its expiry
     * @param scope    what exists in the cluster now
     * @param required the pairs current policies require on this node
     * @param now      the time judged at
     */
    static Map<AuthKey, GcReason> judge(Map<AuthKey, Instant> expiries, GcScope scope, Set<AuthKey> required, Instant now) {
        Map<AuthKey, GcReason> out = new HashMap<>();
        expiries.forEach((k, expiresAt) -> reason(k, expiresAt, scope, required, now).ifPresent(r -> out.put(k, r)));
        return out;
    }

    /** Why {@code k} goes, if it does. */
    static Optional<GcReason> reason(AuthKey k, Instant expiresAt, GcScope scope, Set<AuthKey> required, Instant now) {
        if (!now.isBefore(expiresAt)) {
            return Optional.of(GcReason.EXPIRED);
        }
        if (k.remoteNodeId() != 0 && !scope.nodeIds().contains(k.remoteNodeId())) {
            return Optional.of(GcReason.NODE_DELETED);
        }
        if (scope.identities().isPresent() && !(scope.identities().get().contains(k.localIdentity())
                && scope.identities().get().contains(k.remoteIdentity()))) {
            return Optional.of(GcReason.IDENTITY_DELETED);
        }
        if (scope.localIdentities().isPresent() && !scope.localIdentities().get().contains(k.localIdentity())) {
            return Optional.of(GcReason.NO_LOCAL_ENDPOINT);
        }
        if (scope.requiredKnown() && !required.contains(k)) {
            return Optional.of(GcReason.NOT_REQUIRED);
        }
        return Optional.empty();
    }

    /** The pairs whose entries were authenticated under a root the new bundle lacks. */
    static Set<AuthKey> rootLost(Map<AuthKey, Set<String>> anchors, Set<String> roots) {
        Set<AuthKey> out = new java.util.HashSet<>();
        anchors.forEach((k, a) -> {
            if (!a.isEmpty() && !roots.containsAll(a)) {
                out.add(k);
            }
        });
        return out;
    }
}
