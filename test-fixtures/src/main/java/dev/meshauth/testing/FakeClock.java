package dev.meshauth.testing;

import java.time.Duration;
import java.time.Instant;
import java.time.InstantSource;
import java.util.ArrayList;
import java.util.Comparator;
import java.util.List;
import java.util.PriorityQueue;
import java.util.concurrent.AbstractExecutorService;
import java.util.concurrent.Callable;
import java.util.concurrent.CancellationException;
import java.util.concurrent.Delayed;
import java.util.concurrent.ExecutionException;
import java.util.concurrent.Executors;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledFuture;
import java.util.concurrent.TimeUnit;
import java.util.function.LongSupplier;

/**
 * Time that moves only when the test says so (grpc-java's {@code FakeClock} is the model): a wall clock
 * ({@link InstantSource}), a monotonic ticker ({@link #ticker()}, nanoseconds) and a scheduler
 * ({@link #scheduler()}) whose tasks run on the test's thread, in due order, inside {@link #advance} or
 * {@link #runDueTasks}. Nothing runs on its own, so a test of expiry, backoff, rotation or GC is exact
 * and needs no sleep. Thread-safe: code under test may schedule from its own threads.
 */
public final class FakeClock implements InstantSource {
    private final Object lock = new Object();
    private final PriorityQueue<Task<?>> tasks = new PriorityQueue<>(
            Comparator.<Task<?>>comparingLong(t -> t.due).thenComparingLong(t -> t.seq));
    private final Instant origin;
    private final FakeScheduler scheduler = new FakeScheduler();
    private long nanos; // @GuardedBy("lock"): time since origin
    private Duration wallStep = Duration.ZERO; // @GuardedBy("lock"): what stepWall moved the wall clock by
    private long seq; // @GuardedBy("lock")

    /** Starting at {@code origin}. */
    public FakeClock(Instant origin) {
        this.origin = origin;
    }

    /** Starting at 2026-12-01T00:00:00Z. */
    public FakeClock() {
        this(Instant.parse("2026-12-01T00:00:00Z"));
    }

    @Override
    public Instant instant() {
        synchronized (lock) {
            return origin.plusNanos(nanos).plus(wallStep);
        }
    }

    /**
     * Steps the wall clock by {@code d}, forward or back, as {@code settimeofday} or an NTP step does: the
     * monotonic ticker and the scheduler's due times do not move, and no task runs.
     */
    public void stepWall(Duration d) {
        synchronized (lock) {
            wallStep = wallStep.plus(d);
        }
    }

    /** Nanoseconds on the monotonic ticker (0 at the start). */
    public long nanoTime() {
        synchronized (lock) {
            return nanos;
        }
    }

    /** The monotonic ticker, for code that measures durations ({@code System::nanoTime} in production). */
    public LongSupplier ticker() {
        return this::nanoTime;
    }

    /** The scheduler: tasks run only inside {@link #advance} or {@link #runDueTasks}, on the caller's thread. */
    public ScheduledExecutorService scheduler() {
        return scheduler;
    }

    /**
     * Moves time forward by {@code d}, running every task that falls due on the way, each at its own due
     * time (so a task that reschedules itself within {@code d} runs again).
     *
     * @return tasks run
     */
    public int advance(Duration d) {
        if (d.isNegative()) {
            throw new IllegalArgumentException("time does not go back: " + d);
        }
        long target;
        synchronized (lock) {
            target = nanos + d.toNanos();
        }
        int ran = 0;
        while (true) {
            Task<?> t;
            synchronized (lock) {
                t = tasks.peek();
                if (t == null || t.due > target) {
                    nanos = target;
                    return ran;
                }
                tasks.poll();
                nanos = Math.max(nanos, t.due);
            }
            t.run();
            ran++;
        }
    }

    /** Runs the tasks due now, including those they schedule without delay; returns how many ran. */
    public int runDueTasks() {
        return advance(Duration.ZERO);
    }

    /** Tasks waiting (periodic ones count once). */
    public int pendingTasks() {
        synchronized (lock) {
            return tasks.size();
        }
    }

    /** The delays of the waiting tasks from now, soonest first. */
    public List<Duration> pendingDelays() {
        synchronized (lock) {
            List<Duration> out = new ArrayList<>();
            tasks.stream().sorted(tasks.comparator()).forEach(t -> out.add(Duration.ofNanos(t.due - nanos)));
            return out;
        }
    }

    private <V> Task<V> enqueue(Callable<V> work, long delayNanos, long period) {
        synchronized (lock) {
            if (scheduler.shutdown) {
                throw new RejectedExecutionException("the fake scheduler is shut down");
            }
            Task<V> t = new Task<>(work, nanos + Math.max(0, delayNanos), period, seq++);
            tasks.add(t);
            return t;
        }
    }

    /**
     * One scheduled task.
     *
     * @param <V> its result
     */
    private final class Task<V> implements ScheduledFuture<V> {
        private final Callable<V> work;
        private final long period; // 0: once; > 0: fixed rate; < 0: fixed delay
        private final long seq;
        private long due; // @GuardedBy("lock")
        private boolean done; // @GuardedBy("lock")
        private boolean cancelled; // @GuardedBy("lock")
        private V result; // @GuardedBy("lock")
        private Throwable failure; // @GuardedBy("lock")

        Task(Callable<V> work, long due, long period, long seq) {
            this.work = work;
            this.due = due;
            this.period = period;
            this.seq = seq;
        }

        void run() {
            synchronized (lock) {
                if (done) {
                    return;
                }
            }
            try {
                V v = work.call();
                synchronized (lock) {
                    if (period == 0) {
                        result = v;
                        done = true;
                    } else if (!done && !scheduler.shutdown) {
                        due = period > 0 ? due + period : nanos - period;
                        tasks.add(this);
                    }
                }
            } catch (Exception | Error e) {
                synchronized (lock) {
                    failure = e; // as the JDK's scheduler does: a failing periodic task runs no more
                    done = true;
                }
            }
        }

        @Override
        public long getDelay(TimeUnit unit) {
            synchronized (lock) {
                return unit.convert(due - nanos, TimeUnit.NANOSECONDS);
            }
        }

        @Override
        public int compareTo(Delayed o) {
            return Long.compare(getDelay(TimeUnit.NANOSECONDS), o.getDelay(TimeUnit.NANOSECONDS));
        }

        @Override
        public boolean cancel(boolean mayInterruptIfRunning) {
            synchronized (lock) {
                if (done) {
                    return false;
                }
                done = true;
                cancelled = true;
                tasks.remove(this);
                return true;
            }
        }

        @Override
        public boolean isCancelled() {
            synchronized (lock) {
                return cancelled;
            }
        }

        @Override
        public boolean isDone() {
            synchronized (lock) {
                return done;
            }
        }

        @Override
        public V get() throws ExecutionException {
            synchronized (lock) {
                if (!done) {
                    throw new IllegalStateException("the task has not run: advance the fake clock first");
                }
                if (cancelled) {
                    throw new CancellationException();
                }
                if (failure != null) {
                    throw new ExecutionException(failure);
                }
                return result;
            }
        }

        @Override
        public V get(long timeout, TimeUnit unit) throws ExecutionException {
            return get();
        }
    }

    /** The scheduler view. */
    private final class FakeScheduler extends AbstractExecutorService implements ScheduledExecutorService {
        private volatile boolean shutdown;

        @Override
        public void execute(Runnable command) {
            enqueue(Executors.callable(command), 0, 0);
        }

        @Override
        public ScheduledFuture<?> schedule(Runnable command, long delay, TimeUnit unit) {
            return enqueue(Executors.callable(command), unit.toNanos(delay), 0);
        }

        @Override
        public <V> ScheduledFuture<V> schedule(Callable<V> callable, long delay, TimeUnit unit) {
            return enqueue(callable, unit.toNanos(delay), 0);
        }

        @Override
        public ScheduledFuture<?> scheduleAtFixedRate(Runnable command, long initialDelay, long period, TimeUnit unit) {
            if (period <= 0) {
                throw new IllegalArgumentException("period must be positive: " + period);
            }
            return enqueue(Executors.callable(command), unit.toNanos(initialDelay), unit.toNanos(period));
        }

        @Override
        public ScheduledFuture<?> scheduleWithFixedDelay(Runnable command, long initialDelay, long delay, TimeUnit unit) {
            if (delay <= 0) {
                throw new IllegalArgumentException("delay must be positive: " + delay);
            }
            return enqueue(Executors.callable(command), unit.toNanos(initialDelay), -unit.toNanos(delay));
        }

        @Override
        public void shutdown() {
            shutdown = true;
        }

        @Override
        public List<Runnable> shutdownNow() {
            shutdown = true;
            synchronized (lock) {
                List<Runnable> out = new ArrayList<>();
                for (Task<?> t : tasks) {
                    out.add(t::run);
                }
                tasks.clear();
                return out;
            }
        }

        @Override
        public boolean isShutdown() {
            return shutdown;
        }

        @Override
        public boolean isTerminated() {
            return shutdown;
        }

        @Override
        public boolean awaitTermination(long timeout, TimeUnit unit) {
            return shutdown;
        }
    }
}
