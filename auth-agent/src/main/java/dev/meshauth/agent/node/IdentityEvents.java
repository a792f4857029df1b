package dev.meshauth.agent.node;

import dev.meshauth.agent.auth.AuthManager;
import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.spire.delegated.IdentityEvent;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.time.InstantSource;
import java.util.Optional;
import java.util.Set;
import java.util.function.Consumer;
import java.util.function.Supplier;

/**
 * What the SPIRE agent's identity stream means for this node: the connection state, entries to delete
 * (an SVID removed, a CA gone from the bundle), pairs to redo (rotation) and pairs newly possible (an SVID
 * arrived). Runs on the Delegated Identity client's thread, in stream order.
 */
final class IdentityEvents implements Consumer<IdentityEvent> {
    private static final Logger LOG = LoggerFactory.getLogger(IdentityEvents.class);

    private final SpireLink spire;
    private final AuthManager manager;
    private final Supplier<Set<dev.meshauth.bpf.auth.AuthKey>> required;
    private final Consumer<AuthEvent> events;
    private final InstantSource clock;
    private final java.util.function.BooleanSupplier handshaking;

    /**
     * Events to {@code manager}; {@code handshaking} false while the agent still waits for its SVIDs at start:
     * the manager is told of SVIDs and bundles, but no pair is set to authenticate yet.
     */
    IdentityEvents(SpireLink spire, AuthManager manager, Supplier<Set<dev.meshauth.bpf.auth.AuthKey>> required,
            Consumer<AuthEvent> events, InstantSource clock, java.util.function.BooleanSupplier handshaking) {
        this.spire = spire;
        this.manager = manager;
        this.required = required;
        this.events = events;
        this.clock = clock;
        this.handshaking = handshaking;
    }

    private void requireAll() {
        if (handshaking.getAsBoolean()) {
            manager.setRequired(required.get());
        }
    }

    /** An SVID is held: the required pairs involving it only (one SPIRE update can carry 10,000). */
    private void ready(long identity) {
        if (handshaking.getAsBoolean()) {
            manager.identityReady(identity);
        }
    }

    @Override
    public void accept(IdentityEvent e) {
        switch (e) {
            case IdentityEvent.StreamUp up -> spire.streamUp(up.stream());
            case IdentityEvent.StreamDown down -> spire.streamDown(down.stream(), down.reason());
            case IdentityEvent.BundleChanged b -> {
                Optional<Set<String>> rootLost = spire.bundleReceived(b.roots());
                int deleted = rootLost.map(manager::bundleChanged).orElse(0);
                requireAll();
                LOG.atInfo().addKeyValue("trust_domain", b.trustDomain()).addKeyValue("roots", b.roots().size())
                        .addKeyValue("entries_deleted", deleted).log("trust bundle received");
            }
            case IdentityEvent.SvidRotated r -> {
                events.accept(new AuthEvent.SvidRotated(clock.instant(), r.identity(), r.svid().serial(), r.svid().notAfter()));
                manager.svidAdded(r.identity()); // a rotated SVID is held: whatever was removed before is back
                manager.svidRotated(r.identity());
                ready(r.identity());
            }
            case IdentityEvent.SvidRemoved r -> manager.svidRemoved(r.identity(), r.stillListed());
            case IdentityEvent.SvidAdded a -> {
                manager.svidAdded(a.identity());
                ready(a.identity());
            }
            case IdentityEvent.SvidsHeld h -> {
                // Entries restored from the map at start whose local identity SPIRE no longer gives an SVID:
                // its entry was removed while this agent was down, so no removal event will ever come.
                int deleted = manager.localSvidsMissing(h.identities());
                if (deleted > 0) {
                    LOG.atInfo().addKeyValue("entries_deleted", deleted).addKeyValue("svids_held", h.identities().size())
                            .log("entries whose local identity has no SVID any more were deleted");
                }
            }
            case IdentityEvent.SvidRejected r -> { } // logged by the client with the rule broken; the previous SVID stays
        }
    }
}
