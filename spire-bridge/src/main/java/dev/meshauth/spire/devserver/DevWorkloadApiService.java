package dev.meshauth.spire.devserver;

import com.google.protobuf.ByteString;
import com.google.protobuf.Struct;
import com.google.protobuf.Value;
import io.grpc.Status;
import io.grpc.stub.StreamObserver;
import io.spiffe.spiffeid.SpiffeId;
import io.spiffe.workloadapi.grpc.SpiffeWorkloadAPIGrpc;
import io.spiffe.workloadapi.grpc.Workload;
import spire.api.types.EntryOuterClass.Entry;
import spire.api.types.SelectorOuterClass.Selector;

import java.security.cert.CertificateEncodingException;
import java.util.List;
import java.util.Map;
import java.util.Set;

/**
 * The SPIFFE Workload API on the workload socket. Callers are attested by their peer credentials, as
 * SPIRE's {@code unix} workload attestor does ({@link CallerAttestation}), and get the SVIDs of entries
 * whose selectors are a subset of theirs.
 */
final class DevWorkloadApiService extends SpiffeWorkloadAPIGrpc.SpiffeWorkloadAPIImplBase {
    private final EntryStore store;
    private final SvidIssuer issuer;
    private final JwtIssuer jwt;
    private final Subscriptions subscriptions;

    DevWorkloadApiService(EntryStore store, SvidIssuer issuer, JwtIssuer jwt, Subscriptions subscriptions) {
        this.store = store;
        this.issuer = issuer;
        this.jwt = jwt;
        this.subscriptions = subscriptions;
    }

    private byte[] bundleDer() {
        try {
            return issuer.ca().certificate().getEncoded();
        } catch (CertificateEncodingException e) {
            throw Status.INTERNAL.withDescription("encoding the bundle failed").withCause(e).asRuntimeException();
        }
    }

    @Override
    public void fetchX509SVID(Workload.X509SVIDRequest request, StreamObserver<Workload.X509SVIDResponse> observer) {
        Set<Selector> callerSelectors = CallerAttestation.caller();
        if (store.matching(callerSelectors).isEmpty()) {
            observer.onError(Status.PERMISSION_DENIED.withDescription("no identity issued").asRuntimeException());
            return;
        }
        subscriptions.open(observer, () -> {
            Workload.X509SVIDResponse.Builder b = Workload.X509SVIDResponse.newBuilder();
            for (SvidIssuer.Issued i : issuer.forEntries(store.matching(callerSelectors))) {
                try {
                    b.addSvids(Workload.X509SVID.newBuilder().setSpiffeId(i.spiffeId().toString())
                            .setX509Svid(ByteString.copyFrom(i.certificate().getEncoded()))
                            .setX509SvidKey(ByteString.copyFrom(i.keyPair().getPrivate().getEncoded()))
                            .setBundle(ByteString.copyFrom(bundleDer())).setHint(i.hint()));
                } catch (CertificateEncodingException e) {
                    throw Status.INTERNAL.withDescription("encoding an SVID failed").withCause(e).asRuntimeException();
                }
            }
            return b.build();
        });
    }

    @Override
    public void fetchX509Bundles(Workload.X509BundlesRequest request, StreamObserver<Workload.X509BundlesResponse> observer) {
        subscriptions.open(observer, () -> Workload.X509BundlesResponse.newBuilder()
                .putBundles(issuer.ca().trustDomain().toIdString(), ByteString.copyFrom(bundleDer())).build());
    }

    @Override
    public void fetchJWTSVID(Workload.JWTSVIDRequest request, StreamObserver<Workload.JWTSVIDResponse> observer) {
        if (request.getAudienceCount() == 0) {
            observer.onError(Status.INVALID_ARGUMENT.withDescription("audience must be specified").asRuntimeException());
            return;
        }
        List<Entry> matching = store.matching(CallerAttestation.caller());
        Workload.JWTSVIDResponse.Builder b = Workload.JWTSVIDResponse.newBuilder();
        for (Entry e : matching) {
            SpiffeId id = dev.meshauth.spire.WireIds.fromProto(e.getSpiffeId());
            if (!request.getSpiffeId().isEmpty() && !request.getSpiffeId().equals(id.toString())) {
                continue;
            }
            b.addSvids(Workload.JWTSVID.newBuilder().setSpiffeId(id.toString())
                    .setSvid(jwt.sign(id, request.getAudienceList())).setHint(e.getHint()));
        }
        if (b.getSvidsCount() == 0) {
            observer.onError(Status.PERMISSION_DENIED.withDescription("no identity issued").asRuntimeException());
            return;
        }
        observer.onNext(b.build());
        observer.onCompleted();
    }

    @Override
    public void fetchJWTBundles(Workload.JWTBundlesRequest request, StreamObserver<Workload.JWTBundlesResponse> observer) {
        subscriptions.open(observer, () -> Workload.JWTBundlesResponse.newBuilder()
                .putBundles(issuer.ca().trustDomain().toIdString(), ByteString.copyFrom(jwt.jwks())).build());
    }

    @Override
    public void validateJWTSVID(Workload.ValidateJWTSVIDRequest request,
            StreamObserver<Workload.ValidateJWTSVIDResponse> observer) {
        if (request.getAudience().isEmpty()) {
            observer.onError(Status.INVALID_ARGUMENT.withDescription("audience must be specified").asRuntimeException());
            return;
        }
        if (request.getSvid().isEmpty()) {
            observer.onError(Status.INVALID_ARGUMENT.withDescription("svid must be specified").asRuntimeException());
            return;
        }
        try {
            JwtIssuer.Validated v = jwt.validate(request.getSvid(), request.getAudience());
            Struct.Builder claims = Struct.newBuilder();
            for (Map.Entry<String, Object> c : v.claims().entrySet()) {
                claims.putFields(c.getKey(), toValue(c.getValue()));
            }
            observer.onNext(Workload.ValidateJWTSVIDResponse.newBuilder().setSpiffeId(v.subject()).setClaims(claims).build());
            observer.onCompleted();
        } catch (IllegalArgumentException e) {
            observer.onError(Status.INVALID_ARGUMENT.withDescription(e.getMessage()).asRuntimeException());
        }
    }

    private static Value toValue(Object o) {
        if (o instanceof Number n) {
            return Value.newBuilder().setNumberValue(n.doubleValue()).build();
        }
        if (o instanceof java.util.Date d) {
            return Value.newBuilder().setNumberValue(d.toInstant().getEpochSecond()).build();
        }
        if (o instanceof List<?> l) {
            com.google.protobuf.ListValue.Builder lb = com.google.protobuf.ListValue.newBuilder();
            l.forEach(x -> lb.addValues(toValue(x)));
            return Value.newBuilder().setListValue(lb).build();
        }
        return Value.newBuilder().setStringValue(String.valueOf(o)).build();
    }
}
