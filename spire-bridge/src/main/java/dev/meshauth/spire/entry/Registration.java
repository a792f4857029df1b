package dev.meshauth.spire.entry;

import io.spiffe.spiffeid.SpiffeId;

import java.util.Objects;

/**
 * One identity entry the operator wants: security identity {@code identity} issued under {@code parent}
 * (a node's SPIRE agent, or the cluster-wide parent every agent is aliased to).
 *
 * @param identity the security identity ({@code spiffe://<td>/identity/<n>})
 * @param parent   the entry's parent ID
 */
public record Registration(long identity, SpiffeId parent) implements Comparable<Registration> {
    /** Requires a parent. */
    public Registration {
        Objects.requireNonNull(parent);
    }

    @Override
    public int compareTo(Registration o) {
        int c = Long.compare(identity, o.identity);
        return c != 0 ? c : parent.toString().compareTo(o.parent.toString());
    }
}
