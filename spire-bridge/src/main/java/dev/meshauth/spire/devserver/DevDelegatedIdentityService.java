package dev.meshauth.spire.devserver;

import com.google.protobuf.ByteString;
import dev.meshauth.spire.WireIds;
import io.grpc.Status;
import io.spiffe.spiffeid.SpiffeId;
import io.grpc.stub.StreamObserver;
import spire.api.agent.delegatedidentity.v1.DelegatedIdentityGrpc;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.FetchJWTSVIDsRequest;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.FetchJWTSVIDsResponse;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToJWTBundlesRequest;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToJWTBundlesResponse;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509BundlesRequest;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509BundlesResponse;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509SVIDsRequest;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.SubscribeToX509SVIDsResponse;
import spire.api.agent.delegatedidentity.v1.Delegatedidentity.X509SVIDWithKey;
import spire.api.types.EntryOuterClass.Entry;
import spire.api.types.Jwtsvid.JWTSVID;
import spire.api.types.SelectorOuterClass.Selector;
import spire.api.types.X509Svid.X509SVID;

import java.security.cert.CertificateEncodingException;
import java.util.HashSet;
import java.util.List;
import java.util.Set;

/**
 * SPIRE's Delegated Identity API, served on the admin socket: SVIDs for entries whose selectors are a
 * subset of the request's, full state on every change; trust bundles; JWT-SVIDs. As in SPIRE, the caller
 * (attested by its peer credentials) must hold an entry whose SPIFFE ID is among
 * {@code authorized_delegates}, checked when a call starts and again before every update a stream sends
 * (removing the delegate's entry ends its streams with PERMISSION_DENIED).
 *
 * <p>Difference from SPIRE: PID mode is not supported (Unimplemented).
 */
final class DevDelegatedIdentityService extends DelegatedIdentityGrpc.DelegatedIdentityImplBase {
    private final EntryStore store;
    private final SvidIssuer issuer;
    private final JwtIssuer jwt;
    private final Subscriptions subscriptions;
    private final Set<SpiffeId> delegates;

    DevDelegatedIdentityService(EntryStore store, SvidIssuer issuer, JwtIssuer jwt, Subscriptions subscriptions,
            Set<SpiffeId> delegates) {
        this.store = store;
        this.issuer = issuer;
        this.jwt = jwt;
        this.subscriptions = subscriptions;
        this.delegates = Set.copyOf(delegates);
    }

    /** SPIRE's isCallerAuthorized: the caller's entries must include an authorized delegate. */
    private void authorize(Set<Selector> caller) {
        List<Entry> entries = store.matching(caller);
        if (entries.isEmpty()) {
            throw Status.PERMISSION_DENIED.withDescription("no identity issued").asRuntimeException();
        }
        if (entries.stream().noneMatch(e -> delegates.contains(WireIds.fromProto(e.getSpiffeId())))) {
            throw Status.PERMISSION_DENIED.withDescription("caller not configured as an authorized delegate")
                    .asRuntimeException();
        }
    }

    private static Set<Selector> selectors(List<Selector> requested, int pid) {
        if (requested.isEmpty() == (pid == 0)) {
            throw Status.INVALID_ARGUMENT.withDescription("must provide either selectors or non-zero PID, but not both")
                    .asRuntimeException();
        }
        if (pid != 0) {
            throw Status.UNIMPLEMENTED.withDescription("PID attestation is not supported by the meshauth dev server;"
                    + " subscribe with selectors").asRuntimeException();
        }
        for (Selector s : requested) {
            if (s.getType().isEmpty() || s.getType().contains(":") || s.getValue().isEmpty()) {
                throw Status.INVALID_ARGUMENT.withDescription("could not parse provided selectors").asRuntimeException();
            }
        }
        return new HashSet<>(requested);
    }

    @Override
    public void subscribeToX509SVIDs(SubscribeToX509SVIDsRequest request,
            StreamObserver<SubscribeToX509SVIDsResponse> observer) {
        refusing(observer, () -> {
            Set<Selector> caller = CallerAttestation.caller();
            authorize(caller);
            Set<Selector> sel = selectors(request.getSelectorsList(), request.getPid());
            subscriptions.open(observer, () -> {
                authorize(caller);
                return x509State(sel);
            });
        });
    }

    private SubscribeToX509SVIDsResponse x509State(Set<Selector> sel) {
        List<Entry> matching = store.matching(sel);
        SubscribeToX509SVIDsResponse.Builder b = SubscribeToX509SVIDsResponse.newBuilder();
        for (SvidIssuer.Issued i : issuer.forEntries(matching)) {
            try {
                X509SVID svid = X509SVID.newBuilder()
                        .addCertChain(ByteString.copyFrom(i.certificate().getEncoded()))
                        .setId(WireIds.toProto(i.spiffeId()))
                        .setExpiresAt(i.certificate().getNotAfter().toInstant().getEpochSecond())
                        .setHint(i.hint())
                        .build();
                b.addX509Svids(X509SVIDWithKey.newBuilder().setX509Svid(svid)
                        .setX509SvidKey(ByteString.copyFrom(i.keyPair().getPrivate().getEncoded())));
            } catch (CertificateEncodingException e) {
                throw Status.INTERNAL.withDescription("encoding an SVID failed").withCause(e).asRuntimeException();
            }
        }
        return b.build();
    }

    @Override
    public void subscribeToX509Bundles(SubscribeToX509BundlesRequest request,
            StreamObserver<SubscribeToX509BundlesResponse> observer) {
        refusing(observer, () -> {
            Set<Selector> caller = CallerAttestation.caller();
            authorize(caller);
            subscriptions.open(observer, () -> {
                authorize(caller);
                try {
                    return SubscribeToX509BundlesResponse.newBuilder().putCaCertificates(
                            issuer.ca().trustDomain().toIdString(), ByteString.copyFrom(issuer.ca().certificate().getEncoded()))
                            .build();
                } catch (CertificateEncodingException e) {
                    throw Status.INTERNAL.withDescription("encoding the bundle failed").withCause(e).asRuntimeException();
                }
            });
        });
    }

    @Override
    public void fetchJWTSVIDs(FetchJWTSVIDsRequest request, StreamObserver<FetchJWTSVIDsResponse> observer) {
        refusing(observer, () -> {
            if (request.getAudienceCount() == 0) {
                observer.onError(Status.INVALID_ARGUMENT.withDescription("audience must be specified").asRuntimeException());
                return;
            }
            authorize(CallerAttestation.caller());
            Set<Selector> sel = selectors(request.getSelectorsList(), request.getPid());
            List<Entry> matching = store.matching(sel);
            if (matching.isEmpty()) {
                observer.onError(Status.PERMISSION_DENIED.withDescription("no identity issued").asRuntimeException());
                return;
            }
            FetchJWTSVIDsResponse.Builder b = FetchJWTSVIDsResponse.newBuilder();
            long now = java.time.Instant.now().getEpochSecond();
            for (Entry e : matching) {
                var id = WireIds.fromProto(e.getSpiffeId());
                b.addSvids(JWTSVID.newBuilder().setToken(jwt.sign(id, request.getAudienceList()))
                        .setId(e.getSpiffeId()).setIssuedAt(now).setExpiresAt(jwt.expiry().getEpochSecond())
                        .setHint(e.getHint()));
            }
            observer.onNext(b.build());
            observer.onCompleted();
        });
    }

    @Override
    public void subscribeToJWTBundles(SubscribeToJWTBundlesRequest request,
            StreamObserver<SubscribeToJWTBundlesResponse> observer) {
        refusing(observer, () -> {
            Set<Selector> caller = CallerAttestation.caller();
            authorize(caller);
            subscriptions.open(observer, () -> authorized(caller, SubscribeToJWTBundlesResponse.newBuilder()
                    .putBundles(issuer.ca().trustDomain().toIdString(), ByteString.copyFrom(jwt.jwks())).build()));
        });
    }

    /** Runs an RPC's body; a refusal it throws becomes the call's status. */
    private static void refusing(StreamObserver<?> observer, Runnable body) {
        try {
            body.run();
        } catch (io.grpc.StatusRuntimeException e) {
            observer.onError(e);
        }
    }

    private <T> T authorized(Set<Selector> caller, T state) {
        authorize(caller);
        return state;
    }
}
