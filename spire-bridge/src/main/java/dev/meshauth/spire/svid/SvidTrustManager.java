package dev.meshauth.spire.svid;

import dev.meshauth.spire.SvidException;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.spiffeid.TrustDomain;

import javax.net.ssl.SSLEngine;
import javax.net.ssl.X509ExtendedTrustManager;
import java.net.Socket;
import java.security.cert.X509Certificate;
import java.time.Instant;
import java.time.InstantSource;
import java.util.List;
import java.util.Optional;
import java.util.function.Predicate;
import java.util.function.Supplier;

/**
 * The one TLS trust decision for SPIFFE peers, used by the agents' mutual authentication and by the
 * SPIRE server API over TCP: the peer's chain must be an X509-SVID of the trust domain chaining to the
 * current bundle ({@link SvidValidator}), and its SPIFFE ID must satisfy the rule for the peer's role.
 * Both are read at each handshake, so SVID and bundle rotation need no new context. Optionally, chains
 * already verified are remembered ({@link VerifiedChains}) so a repeat handshake skips the signature
 * checks. Every refusal is a {@link SvidRejectedException}.
 */
public final class SvidTrustManager extends X509ExtendedTrustManager {
    /**
     * Which SPIFFE IDs a side accepts from its peer.
     *
     * @param accepts  the test
     * @param expected what it wants, for the refusal ("the SPIRE server spiffe://td/spire/server")
     */
    public record PeerRule(Predicate<SpiffeId> accepts, String expected) {
        /** Any SPIFFE ID of the trust domain. */
        public static PeerRule any() {
            return new PeerRule(id -> true, "any SPIFFE ID");
        }

        /** Exactly {@code id}. */
        public static PeerRule exactly(SpiffeId id) {
            return new PeerRule(id::equals, id.toString());
        }
    }

    /**
     * What a client side accepts from its server, decided per handshake from the client's engine (the
     * server it named in SNI): one client context then serves every peer of a local identity.
     */
    @FunctionalInterface
    public interface ServerRule {
        /** The rule for the handshake of {@code engine} (empty when called without one). */
        PeerRule forHandshake(Optional<SSLEngine> engine);
    }

    private final Supplier<TrustDomain> trustDomain;
    private final Supplier<List<X509Certificate>> roots;
    private final InstantSource clock;
    private final PeerRule clients;
    private final ServerRule servers;
    private final Optional<VerifiedChains> verified;

    /**
     * A trust manager.
     *
     * @param trustDomain the trust domain peers must belong to
     * @param roots       the current bundle, read at each handshake
     * @param clock       validity is judged at its instant
     * @param clients     what a server side accepts from its clients
     * @param servers     what a client side accepts from its server
     * @param verified    a cache of chains already verified, if wanted
     */
    public SvidTrustManager(Supplier<TrustDomain> trustDomain, Supplier<List<X509Certificate>> roots, InstantSource clock,
            PeerRule clients, PeerRule servers, Optional<VerifiedChains> verified) {
        this(trustDomain, roots, clock, clients, engine -> servers, verified);
    }

    /** As above, with the servers' rule chosen per handshake. */
    public SvidTrustManager(Supplier<TrustDomain> trustDomain, Supplier<List<X509Certificate>> roots, InstantSource clock,
            PeerRule clients, ServerRule servers, Optional<VerifiedChains> verified) {
        this.trustDomain = trustDomain;
        this.roots = roots;
        this.clock = clock;
        this.clients = clients;
        this.servers = servers;
        this.verified = verified;
    }

    private void check(X509Certificate[] chain, PeerRule rule, String role) throws SvidRejectedException {
        List<X509Certificate> bundle = roots.get();
        Instant now = clock.instant();
        Optional<SpiffeId> known = verified.flatMap(v -> v.lookup(chain, bundle, now));
        SpiffeId id;
        if (known.isPresent()) {
            id = known.get();
        } else {
            try {
                id = SvidValidator.validateChain(List.of(chain), trustDomain.get(), bundle, now);
            } catch (SvidException e) {
                throw new SvidRejectedException(SvidRejectedException.Kind.INVALID_SVID, Optional.empty(), e.getMessage(), e);
            }
            SpiffeId valid = id;
            verified.ifPresent(v -> v.remember(chain, bundle, valid));
        }
        if (!rule.accepts().test(id)) {
            throw new SvidRejectedException(SvidRejectedException.Kind.UNAUTHORIZED_ID, Optional.of(id),
                    role + " presented " + id + ", expected " + rule.expected(), null);
        }
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType) throws SvidRejectedException {
        check(chain, clients, "client");
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType) throws SvidRejectedException {
        check(chain, servers.forHandshake(Optional.empty()), "server");
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, Socket socket) throws SvidRejectedException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, Socket socket) throws SvidRejectedException {
        checkServerTrusted(chain, authType);
    }

    @Override
    public void checkClientTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws SvidRejectedException {
        checkClientTrusted(chain, authType);
    }

    @Override
    public void checkServerTrusted(X509Certificate[] chain, String authType, SSLEngine engine) throws SvidRejectedException {
        check(chain, servers.forHandshake(Optional.ofNullable(engine)), "server");
    }

    @Override
    public X509Certificate[] getAcceptedIssuers() {
        return roots.get().toArray(X509Certificate[]::new);
    }
}
