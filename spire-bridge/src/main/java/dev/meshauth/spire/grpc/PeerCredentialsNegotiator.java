package dev.meshauth.spire.grpc;

import io.grpc.Attributes;
import io.grpc.netty.shaded.io.grpc.netty.GrpcHttp2ConnectionHandler;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiationEvent;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiator;
import io.grpc.netty.shaded.io.grpc.netty.InternalProtocolNegotiators;
import io.grpc.netty.shaded.io.grpc.netty.ProtocolNegotiationEvent;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandler;
import io.grpc.netty.shaded.io.netty.channel.ChannelHandlerContext;
import io.grpc.netty.shaded.io.netty.channel.ChannelInboundHandlerAdapter;
import io.grpc.netty.shaded.io.netty.channel.epoll.EpollDomainSocketChannel;
import io.grpc.netty.shaded.io.netty.channel.unix.PeerCredentials;
import io.grpc.netty.shaded.io.netty.util.AsciiString;

import java.io.IOException;

/**
 * gRPC's plaintext server negotiation, plus the caller's kernel-reported credentials (SO_PEERCRED: the
 * pid, uid and gid of the process that connected) as the transport attribute {@link UnixSockets#PEER}, so
 * a service can attest its caller as SPIRE's unix workload attestor does. A connection whose credentials
 * cannot be read simply carries none; the service then refuses it.
 */
final class PeerCredentialsNegotiator implements InternalProtocolNegotiator.ProtocolNegotiator {
    private final InternalProtocolNegotiator.ProtocolNegotiator plaintext = InternalProtocolNegotiators.serverPlaintext();

    @Override
    public AsciiString scheme() {
        return plaintext.scheme();
    }

    @Override
    public ChannelHandler newHandler(GrpcHttp2ConnectionHandler grpcHandler) {
        ChannelHandler next = plaintext.newHandler(grpcHandler);
        return new ChannelInboundHandlerAdapter() {
            @Override
            public void handlerAdded(ChannelHandlerContext ctx) {
                ctx.pipeline().addAfter(ctx.name(), null, next);
            }

            @Override
            public void userEventTriggered(ChannelHandlerContext ctx, Object evt) {
                Object out = evt;
                if (evt instanceof ProtocolNegotiationEvent pne && ctx.channel() instanceof EpollDomainSocketChannel ch) {
                    try {
                        PeerCredentials c = ch.peerCredentials();
                        Attributes attrs = InternalProtocolNegotiationEvent.getAttributes(pne).toBuilder()
                                .set(UnixSockets.PEER, new UnixPeer(c.pid(), c.uid(), c.gids().length > 0 ? c.gids()[0] : -1))
                                .build();
                        out = InternalProtocolNegotiationEvent.withAttributes(pne, attrs);
                    } catch (IOException e) {
                        // no credentials: the attribute stays absent and the service refuses the caller
                    }
                    ctx.pipeline().remove(this);
                }
                ctx.fireUserEventTriggered(out);
            }
        };
    }

    @Override
    public void close() {
        plaintext.close();
    }
}
