package dev.meshauth.agent.lifecycle;

import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.util.ArrayDeque;
import java.util.Deque;

/**
 * What a composition root has started, closed in reverse (as Cilium's start/stop hooks are). Each
 * collaborator is registered the moment it exists, so a failure at any later step of start closes
 * exactly what was already started, and a normal stop closes everything, newest first.
 *
 * <pre>
 *   NEW --start()--> STARTING --running()--> RUNNING --close()--> STOPPING --> CLOSED
 *                       |                                             ^
 *                       +------- a step failed: close() --------------+
 * </pre>
 * Only the thread that builds the root calls {@link #start}, {@link #add} and {@link #running}; any thread
 * may read {@link #state}, and {@link #close} is idempotent.
 */
public final class Lifecycle implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(Lifecycle.class);

    /** Where the root is in its life. */
    public enum State {
        /** Nothing started. */
        NEW,
        /** Collaborators are being built and started, in dependency order. */
        STARTING,
        /** Everything started; the root serves. */
        RUNNING,
        /** Closing, newest first. */
        STOPPING,
        /** Everything closed (or never started). */
        CLOSED
    }

    /** A started collaborator and how to stop it. */
    @FunctionalInterface
    public interface Stop {
        void stop() throws Exception;
    }

    private record Hook(String name, Stop stop) {
    }

    private final String owner;
    private final Deque<Hook> hooks = new ArrayDeque<>(); // @GuardedBy("this")
    private volatile State state = State.NEW;

    /** For {@code owner} (named in logs). */
    public Lifecycle(String owner) {
        this.owner = owner;
    }

    /** NEW to STARTING. */
    public synchronized void start() {
        require(State.NEW);
        state = State.STARTING;
    }

    /** Registers a started collaborator; returns it. */
    public synchronized <T extends AutoCloseable> T add(String name, T started) {
        return add(name, started, started::close);
    }

    /** Registers a started collaborator with its own way to stop; returns it. */
    public synchronized <T> T add(String name, T started, Stop stop) {
        require(State.STARTING);
        hooks.push(new Hook(name, stop));
        return started;
    }

    /** STARTING to RUNNING. */
    public synchronized void running() {
        require(State.STARTING);
        state = State.RUNNING;
    }

    /** The state now. */
    public State state() {
        return state;
    }

    private void require(State s) {
        if (state != s) {
            throw new IllegalStateException(owner + " is " + state + ", not " + s);
        }
    }

    /** Stops every registered collaborator, newest first; a failing stop is logged and the rest still run. */
    @Override
    public void close() {
        synchronized (this) {
            if (state == State.STOPPING || state == State.CLOSED) {
                return;
            }
            state = State.STOPPING;
        }
        while (true) {
            Hook h;
            synchronized (this) {
                h = hooks.poll();
            }
            if (h == null) {
                break;
            }
            try {
                h.stop().stop();
            } catch (Exception | Error e) {
                LOG.atWarn().addKeyValue("owner", owner).addKeyValue("component", h.name()).addKeyValue("error", e.toString())
                        .log("stopping a component failed; the others still stop");
            }
        }
        state = State.CLOSED;
    }
}
