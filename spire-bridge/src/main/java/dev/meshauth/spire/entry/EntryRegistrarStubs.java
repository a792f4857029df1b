package dev.meshauth.spire.entry;

import io.grpc.Channel;
import spire.api.server.entry.v1.EntryGrpc;

/** Stubs for {@link EntryRegistrar}, so callers need not know the generated classes. */
public final class EntryRegistrarStubs {
    private EntryRegistrarStubs() {
    }

    /** A blocking Entry API stub on {@code channel}. */
    public static EntryGrpc.EntryBlockingStub blocking(Channel channel) {
        return EntryGrpc.newBlockingStub(channel);
    }
}
