package dev.meshauth.agent.events;

import java.util.ArrayDeque;
import java.util.List;
import java.util.concurrent.CopyOnWriteArrayList;
import java.util.function.Consumer;

/**
 * The agent's auth events: the last {@code capacity} kept for {@code meshauth observe} without
 * {@code --follow}, and handed to every subscriber as they happen, in order, under one lock so that a
 * subscriber joining with history sees each event exactly once. Subscribers must be quick (enqueue, count);
 * one that throws never breaks the publisher or the other subscribers.
 */
public final class EventLog implements Consumer<AuthEvent> {
    private final int capacity;
    private final ArrayDeque<AuthEvent> recent; // @GuardedBy("this")
    private final List<Consumer<AuthEvent>> subscribers = new CopyOnWriteArrayList<>();

    /** Keeps the last {@code capacity} events. */
    public EventLog(int capacity) {
        this.capacity = capacity;
        this.recent = new ArrayDeque<>(capacity);
    }

    @Override
    public synchronized void accept(AuthEvent e) {
        if (recent.size() == capacity) {
            recent.removeFirst();
        }
        recent.addLast(e);
        for (Consumer<AuthEvent> s : subscribers) {
            try {
                s.accept(e);
            } catch (RuntimeException ignored) {
                // one broken subscriber (a closed observe stream) must not stop the others
            }
        }
    }

    /** The kept events, oldest first. */
    public synchronized List<AuthEvent> recent() {
        return List.copyOf(recent);
    }

    /** Subscribes; close the result to stop. */
    public AutoCloseable subscribe(Consumer<AuthEvent> subscriber) {
        return subscribe(subscriber, false);
    }

    /** Subscribes, first replaying the kept events if {@code withHistory}; no event is missed or repeated. */
    public synchronized AutoCloseable subscribe(Consumer<AuthEvent> subscriber, boolean withHistory) {
        if (withHistory) {
            recent.forEach(subscriber);
        }
        subscribers.add(subscriber);
        return () -> subscribers.remove(subscriber);
    }
}
