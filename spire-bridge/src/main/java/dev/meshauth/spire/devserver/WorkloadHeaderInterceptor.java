package dev.meshauth.spire.devserver;

import io.grpc.Metadata;
import io.grpc.ServerCall;
import io.grpc.ServerCallHandler;
import io.grpc.ServerInterceptor;
import io.grpc.Status;

/**
 * The SPIFFE Workload Endpoint's security header: every Workload API request must carry exactly one
 * {@code workload.spiffe.io: true}; otherwise InvalidArgument "security header missing from request",
 * as SPIRE answers. Only {@code /SpiffeWorkloadAPI/} methods are checked (not the admin API).
 */
final class WorkloadHeaderInterceptor implements ServerInterceptor {
    static final Metadata.Key<String> HEADER = Metadata.Key.of("workload.spiffe.io", Metadata.ASCII_STRING_MARSHALLER);

    @Override
    public <Q, R> ServerCall.Listener<Q> interceptCall(ServerCall<Q, R> call, Metadata headers,
            ServerCallHandler<Q, R> next) {
        if (call.getMethodDescriptor().getFullMethodName().startsWith("SpiffeWorkloadAPI/")) {
            Iterable<String> values = headers.getAll(HEADER);
            int n = 0;
            boolean ok = false;
            if (values != null) {
                for (String v : values) {
                    n++;
                    ok = "true".equals(v);
                }
            }
            if (n != 1 || !ok) {
                call.close(Status.INVALID_ARGUMENT.withDescription("security header missing from request"), new Metadata());
                return new ServerCall.Listener<>() { };
            }
        }
        return next.startCall(call, headers);
    }
}
