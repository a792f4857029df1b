package dev.meshauth.agent.node;

import dev.meshauth.agent.events.AuthEvent;
import dev.meshauth.agent.events.EventLog;
import dev.meshauth.agent.time.Clocks;
import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.auth.AuthKey;
import dev.meshauth.bpf.auth.AuthMap;
import dev.meshauth.bpf.datapath.HeldSyn;
import dev.meshauth.bpf.link.FrameInjector;
import dev.meshauth.bpf.link.TcxLink;

import java.net.InetAddress;
import java.util.concurrent.ExecutorService;
import java.util.concurrent.Executors;
import java.util.concurrent.TimeUnit;

/**
 * The standalone datapath's held SYNs, wired: each goes to {@link HeldSyns} (its own thread), is released by
 * the pair's {@code HandshakeSucceeded} event, and is put back through a {@link FrameInjector} at the hook of
 * the local endpoint whose program dropped it (found by the frame's local address).
 */
final class SynPutBack implements AutoCloseable {
    private final FrameInjector injector;
    private final ExecutorService owner;
    private final HeldSyns syns;
    private final AutoCloseable release;

    private SynPutBack(FrameInjector injector, ExecutorService owner, EndpointAttachments attachments, AuthMap authMap,
            Clocks time, EventLog events) {
        this.injector = injector;
        this.owner = owner;
        this.syns = new HeldSyns(owner, syn -> putBack(attachments, syn), key -> authenticated(authMap, time, key),
                time.ticker(), HeldSyns.Limits.DEFAULTS);
        this.release = events.subscribe(e -> {
            if (e instanceof AuthEvent.HandshakeSucceeded ok) {
                syns.authenticated(ok.key());
            }
        });
    }

    /**
     * Loads the injector's program and starts the owner thread.
     *
     * @throws BpfException if the kernel refuses the program
     */
    static SynPutBack start(EndpointAttachments attachments, AuthMap authMap, Clocks time, EventLog events)
            throws BpfException {
        FrameInjector injector = FrameInjector.create();
        ExecutorService owner = Executors.newSingleThreadExecutor(Thread.ofPlatform().daemon().name("meshauth-held-syns").factory());
        return new SynPutBack(injector, owner, attachments, authMap, time, events);
    }

    /** A SYN the datapath handed over. */
    void held(HeldSyn syn) {
        syns.held(syn);
    }

    /** What became of the SYNs so far. */
    HeldSyns.Stats stats() {
        return syns.stats();
    }

    private void putBack(EndpointAttachments attachments, HeldSyn syn) throws BpfException {
        InetAddress local = syn.localAddress().orElseThrow(() -> BpfException.of("put back a held SYN",
                "pair " + syn.key(), "the frame is neither IPv4 nor IPv6"));
        TcxLink.Hook hook = attachments.hook(local, syn.role()).orElseThrow(() -> BpfException.of("put back a held SYN",
                "address " + local.getHostAddress(), "no local endpoint with this address is attached any more"));
        injector.inject(hook, syn.reinjectable());
    }

    /** True if the auth map holds an unexpired entry for {@code key} now. */
    private static boolean authenticated(AuthMap authMap, Clocks time, AuthKey key) {
        try {
            return authMap.get(key).map(i -> i.isValidAt(time.clock().instant())).orElse(false);
        } catch (BpfException e) {
            return false; // the SYN waits for its pair's handshake instead
        }
    }

    @Override
    public void close() throws Exception {
        release.close();
        owner.shutdownNow();
        owner.awaitTermination(5, TimeUnit.SECONDS);
        injector.close();
    }
}
