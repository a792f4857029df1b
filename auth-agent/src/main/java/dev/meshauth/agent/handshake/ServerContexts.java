package dev.meshauth.agent.handshake;

import dev.meshauth.spire.svid.WorkloadSvid;
import io.netty.handler.ssl.SslContext;

import javax.net.ssl.SSLException;
import java.security.cert.X509Certificate;
import java.time.InstantSource;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;

/**
 * The listener's TLS contexts: one per local identity, for its current SVID and bundle. A rotated SVID or a
 * new bundle replaces the identity's context (handshakes in flight keep the old one until they end; with
 * BoringSSL its native memory goes with it); identities no longer served here are dropped. So the count
 * is bounded by the identities on this node, not by the rotations seen.
 */
final class ServerContexts {
    private record Current(String serial, List<X509Certificate> roots, SslContext context) {
    }

    private final IdentityStore store;
    private final InstantSource clock;
    private final Map<Long, Current> byIdentity = new ConcurrentHashMap<>();

    ServerContexts(IdentityStore store, InstantSource clock) {
        this.store = store;
        this.clock = clock;
    }

    /** The context for {@code identity}'s current {@code svid}, built when the SVID or the bundle changed. */
    SslContext forIdentity(long identity, WorkloadSvid svid) throws SSLException {
        List<X509Certificate> roots = store.roots();
        Current cur = byIdentity.get(identity);
        if (cur != null && cur.serial().equals(svid.serial()) && cur.roots().equals(roots)) {
            return cur.context();
        }
        SslContext ctx = TlsContexts.server(svid, store, clock);
        if (byIdentity.put(identity, new Current(svid.serial(), roots, ctx)) == null) {
            byIdentity.keySet().removeIf(id -> !store.servesLocally(id)); // a new identity: forget departed ones
        }
        return ctx;
    }

    /** Contexts held (status, tests). */
    int size() {
        return byIdentity.size();
    }
}
