package dev.meshauth.spire.testing;

import io.grpc.Status;
import io.grpc.stub.ClientCallStreamObserver;
import io.grpc.stub.ClientResponseObserver;

import java.time.Duration;
import java.util.ArrayList;
import java.util.List;
import java.util.concurrent.TimeUnit;
import java.util.function.Predicate;

/**
 * Records a server stream's messages and its end, and waits (with a deadline, on a monitor: no sleeps)
 * for a message or an end the test expects. Cancel it with {@link #close()}.
 */
public final class StreamRecorder<T> implements ClientResponseObserver<Object, T>, AutoCloseable {
    private final List<T> messages = new ArrayList<>(); // @GuardedBy("this")
    private Status end; // @GuardedBy("this"); OK when completed
    private ClientCallStreamObserver<?> call;

    @Override
    public void beforeStart(ClientCallStreamObserver<Object> requestStream) {
        this.call = requestStream;
    }

    @Override
    public synchronized void onNext(T value) {
        messages.add(value);
        notifyAll();
    }

    @Override
    public synchronized void onError(Throwable t) {
        end = Status.fromThrowable(t);
        notifyAll();
    }

    @Override
    public synchronized void onCompleted() {
        end = Status.OK;
        notifyAll();
    }

    /**
     * Waits until a message matching {@code p} arrives (or has arrived) and returns it.
     *
     * @throws AssertionError with what arrived instead, if none does within {@code max}
     */
    public synchronized T await(Predicate<T> p, Duration max, String what) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (true) {
            for (int i = messages.size() - 1; i >= 0; i--) {
                if (p.test(messages.get(i))) {
                    return messages.get(i);
                }
            }
            long left = deadline - System.nanoTime();
            if (left <= 0 || end != null) {
                throw new AssertionError("no stream message " + what + " within " + max + "; stream end: " + end
                        + "; messages: " + messages.size() + (messages.isEmpty() ? "" : ", last: " + messages.getLast()));
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
    }

    /** The latest message, waiting for the first one. */
    public T latest(Duration max) throws InterruptedException {
        return await(m -> true, max, "at all");
    }

    /** Waits for the stream to end and returns how. */
    public synchronized Status awaitEnd(Duration max) throws InterruptedException {
        long deadline = System.nanoTime() + max.toNanos();
        while (end == null) {
            long left = deadline - System.nanoTime();
            if (left <= 0) {
                throw new AssertionError("the stream did not end within " + max + "; messages: " + messages.size());
            }
            TimeUnit.NANOSECONDS.timedWait(this, left);
        }
        return end;
    }

    @Override
    public void close() {
        if (call != null) {
            call.cancel("test done", null);
        }
    }
}
