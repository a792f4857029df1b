package dev.meshauth.policy.eval;

import dev.meshauth.policy.model.AuthType;
import dev.meshauth.policy.model.Direction;

import java.util.Set;
import java.util.TreeSet;

/**
 * What the policies decide for a packet, before the auth map is consulted: the one answer that
 * {@code meshauth check}, {@code policy explain} and the datapath's entries all come from.
 */
public sealed interface Verdict {
    /** The rules behind the verdict ("namespace/name ingress[0]"), or why no rule applies. */
    Set<String> reasons();

    /**
     * Passes without authentication.
     *
     * @param selected false if no policy selects the endpoint(s) in the direction(s) asked (default-allow)
     * @param reasons  the allowing rules; empty if not selected
     */
    record Allowed(boolean selected, Set<String> reasons) implements Verdict {
        /** Copies. */
        public Allowed {
            reasons = Set.copyOf(new TreeSet<>(reasons));
        }
    }

    /**
     * Dropped by policy: a deny rule, or default-deny of a selected endpoint that no rule allows.
     *
     * @param side    the direction whose policy drops it
     * @param reasons the deny rules, or the default-deny reason
     */
    record Denied(Direction side, Set<String> reasons) implements Verdict {
        /** Copies. */
        public Denied {
            reasons = Set.copyOf(new TreeSet<>(reasons));
        }
    }

    /**
     * Passes only if the auth map holds an unexpired entry for
     * {@code {localIdentity, remoteIdentity, remote node, type}}.
     *
     * @param side           the direction whose policy demands it: INGRESS, the receiver enforces;
     *                       EGRESS, the sender does
     * @param type           the authentication demanded (never DISABLED)
     * @param localIdentity  the enforcing endpoint's identity
     * @param remoteIdentity the peer's identity
     * @param reasons        the rules demanding it
     */
    record AuthRequired(Direction side, AuthType type, long localIdentity, long remoteIdentity, Set<String> reasons)
            implements Verdict {
        /** Copies and checks. */
        public AuthRequired {
            if (type == AuthType.DISABLED) {
                throw new IllegalArgumentException("auth-required with auth type disabled");
            }
            reasons = Set.copyOf(new TreeSet<>(reasons));
        }
    }
}
