package dev.meshauth.agent.handshake;

import java.net.InetSocketAddress;
import java.util.Optional;
import java.util.OptionalLong;

/**
 * A peer's handshake with this node's listener, as the server saw it.
 *
 * @param peer    where it came from
 * @param sni     the server name it asked for, if any
 * @param served  the local identity it asked for, if the SNI named one
 * @param client  the client's identity, if its certificate was valid
 * @param refusal empty if accepted
 * @param detail  what exactly was wrong (the validator's rule, the SNI), empty if accepted
 */
public record InboundHandshake(InetSocketAddress peer, Optional<String> sni, OptionalLong served, OptionalLong client,
        Optional<InboundRefusal> refusal, String detail) {
    /** True if the client was verified and told so (close_notify). */
    public boolean accepted() {
        return refusal.isEmpty();
    }
}
