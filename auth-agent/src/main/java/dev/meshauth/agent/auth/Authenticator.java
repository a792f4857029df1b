package dev.meshauth.agent.auth;

import dev.meshauth.agent.handshake.HandshakeResult;

import java.net.InetSocketAddress;
import java.util.concurrent.CompletableFuture;

/** Authenticates one identity pair with the peer node. Production: {@code MutualAuthClient::authenticate}. */
@FunctionalInterface
public interface Authenticator {
    /** Mutual authentication of {@code local} to {@code remote} at {@code peer}. */
    CompletableFuture<HandshakeResult> authenticate(long local, long remote, InetSocketAddress peer);
}
