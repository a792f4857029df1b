package dev.meshauth.spire.devserver;

import dev.meshauth.spire.UnixSelectors;
import dev.meshauth.spire.grpc.UnixPeer;
import dev.meshauth.spire.grpc.UnixSockets;
import io.grpc.Context;
import io.grpc.Contexts;
import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;
import spire.api.types.SelectorOuterClass.Selector;

import java.util.Set;

/**
 * Attests each caller of the Workload API and admin sockets as SPIRE's {@code unix} workload attestor
 * does: from the kernel's peer credentials (SO_PEERCRED) to {@code unix:uid}, {@code unix:user},
 * {@code unix:gid} and {@code unix:group} selectors, available to the call as {@link #SELECTORS}. A caller
 * whose credentials are unknown gets SPIRE's {@code Unavailable "workload attestation failed"}.
 */
final class CallerAttestation implements ServerInterceptor {
    /** The attested caller's selectors. */
    static final Context.Key<Set<Selector>> SELECTORS = Context.key("meshauth.caller-selectors");

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers, ServerCallHandler<Q, R> next) {
        UnixPeer peer = call.getAttributes().get(UnixSockets.PEER);
        if (peer == null) {
            call.close(Status.UNAVAILABLE.withDescription("workload attestation failed"), new Metadata());
            return new ServerCall.Listener<>() { };
        }
        Context ctx = Context.current().withValue(SELECTORS, Set.copyOf(UnixSelectors.of(peer.uid(), peer.gid())));
        return Contexts.interceptCall(ctx, call, headers, next);
    }

    /** The current call's selectors. */
    static Set<Selector> caller() {
        Set<Selector> s = SELECTORS.get();
        if (s == null) {
            throw Status.UNAVAILABLE.withDescription("workload attestation failed").asRuntimeException();
        }
        return s;
    }
}
