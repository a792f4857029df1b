package dev.meshauth.bpf.ringbuf;

import dev.meshauth.bpf.BpfException;
import dev.meshauth.bpf.Errno;
import dev.meshauth.bpf.map.BpfMap;
import dev.meshauth.bpf.map.MapType;
import dev.meshauth.bpf.sys.Fd;
import dev.meshauth.bpf.sys.Native;
import org.slf4j.Logger;
import org.slf4j.LoggerFactory;

import java.lang.foreign.Arena;
import java.lang.foreign.MemorySegment;
import java.lang.invoke.VarHandle;
import java.util.function.Consumer;

import static java.lang.foreign.ValueLayout.JAVA_BYTE;
import static java.lang.foreign.ValueLayout.JAVA_INT;
import static java.lang.foreign.ValueLayout.JAVA_LONG;

/**
 * Reads a {@code BPF_MAP_TYPE_RINGBUF} map on its own platform thread and hands each record to a
 * listener, as libbpf's {@code ring_buffer__poll} does.
 *
 * <p>Memory: the consumer page is mapped read-write ({@code consumer_pos} at 0), the producer page plus
 * the data area twice read-only (the kernel maps data pages twice in a row, so a record that wraps reads
 * contiguously). Positions are read with acquire and the consumer position published with release
 * ordering; a record whose header has the BUSY bit is not committed yet and stops the pass. The kernel
 * wakes a waiting reader only when the consumer has caught up, so each wake-up drains everything.
 */
public final class RingBufferReader implements AutoCloseable {
    private static final Logger LOG = LoggerFactory.getLogger(RingBufferReader.class);
    private static final int PROT_READ = 1;
    private static final int PROT_WRITE = 2;
    private static final int MAP_SHARED = 1;
    private static final int EPOLL_CTL_ADD = 1;
    private static final int EPOLLIN = 1;
    private static final int EPOLL_CLOEXEC = 0x80000;
    private static final int POLL_TIMEOUT_MS = 100;
    private static final VarHandle LONG_ACQ = JAVA_LONG.varHandle();
    private static final boolean X86 = System.getProperty("os.arch").equals("amd64");
    private static final int EPOLL_EVENT_SIZE = X86 ? 12 : 16; // packed on x86_64

    private final String label;
    private final long size;
    private final Arena arena = Arena.ofShared();
    private final MemorySegment consumer;
    private final MemorySegment producer;
    private final MemorySegment data;
    private final Fd epoll;
    private final Consumer<MemorySegment> listener;
    private final Thread thread;
    private volatile boolean closed;
    private volatile long delivered;

    private RingBufferReader(BpfMap map, Consumer<MemorySegment> listener, String threadName) throws BpfException {
        this.label = map.label();
        this.size = map.info().maxEntries();
        this.listener = listener;
        long page = Native.pageSize();
        MemorySegment capture = Native.allocateCapture(arena);
        int fd = map.fd().get();
        MemorySegment cons = Native.mmap(capture, page, PROT_READ | PROT_WRITE, MAP_SHARED, fd, 0);
        check(cons, capture, "mmap consumer page");
        this.consumer = cons.reinterpret(page, arena, s -> unmap(s, page));
        MemorySegment prod = Native.mmap(capture, page + 2 * size, PROT_READ, MAP_SHARED, fd, page);
        check(prod, capture, "mmap producer and data pages");
        this.producer = prod.reinterpret(page + 2 * size, arena, s -> unmap(s, page + 2 * size));
        this.data = producer.asSlice(page, 2 * size);
        int ep = Native.epollCreate1(capture, EPOLL_CLOEXEC);
        if (ep < 0) {
            throw BpfException.syscall("epoll_create1", label, Native.errno(capture));
        }
        this.epoll = new Fd(ep);
        MemorySegment event = arena.allocate(16, 8);
        event.set(JAVA_INT, 0, EPOLLIN);
        if (Native.epollCtl(capture, ep, EPOLL_CTL_ADD, fd, event) != 0) {
            int errno = Native.errno(capture);
            epoll.close();
            throw BpfException.syscall("epoll_ctl", label, errno);
        }
        this.thread = Thread.ofPlatform().daemon().name(threadName).unstarted(this::run);
    }

    /**
     * Starts reading {@code map} (a ring buffer) on a new thread named {@code threadName}; {@code listener}
     * gets each record's payload, valid only during the call.
     *
     * @throws BpfException if the map cannot be mapped or polled
     */
    public static RingBufferReader start(BpfMap map, Consumer<MemorySegment> listener, String threadName)
            throws BpfException {
        if (map.info().type() != MapType.RINGBUF.number()) {
            throw BpfException.of("read ring buffer", map.label(), "not a ring buffer map (type "
                    + MapType.describe(map.info().type()) + ")");
        }
        RingBufferReader r = new RingBufferReader(map, listener, threadName);
        r.thread.start();
        return r;
    }

    private static void unmap(MemorySegment segment, long length) {
        try (Arena a = Arena.ofConfined()) {
            Native.munmap(Native.allocateCapture(a), segment, length);
        }
    }

    private void check(MemorySegment mapped, MemorySegment capture, String what) throws BpfException {
        if (mapped.address() == -1L) {
            throw BpfException.syscall(what, label, Native.errno(capture));
        }
    }

    private void run() {
        MemorySegment capture = Native.allocateCapture(arena);
        MemorySegment events = arena.allocate(EPOLL_EVENT_SIZE * 4L, 8);
        while (!closed) {
            drain();
            int n = Native.epollWait(capture, epoll.get(), events, 4, POLL_TIMEOUT_MS);
            if (n < 0 && Native.errno(capture) != Errno.EINTR.number()) {
                LOG.atError().setMessage("ring buffer poll failed, stopping reader")
                        .addKeyValue("map", label)
                        .addKeyValue("errno", Errno.symbol(Native.errno(capture)))
                        .log();
                return;
            }
        }
    }

    /** Delivers every committed record; returns how many. Also usable without the thread (tests). */
    int drain() {
        int count = 0;
        long cons = (long) LONG_ACQ.getAcquire(consumer, 0L);
        while (true) {
            long prod = (long) LONG_ACQ.getAcquire(producer, 0L);
            if (cons >= prod) {
                break;
            }
            RingRecords.Walk w = RingRecords.walk(data, size, cons, prod, this::deliver,
                    c -> LONG_ACQ.setRelease(consumer, 0L, c));
            if (w.corrupt()) {
                LOG.atError().setMessage("ring buffer holds a record that cannot be right; skipped to the producer position")
                        .addKeyValue("map", label).addKeyValue("consumer", cons).addKeyValue("producer", prod).log();
            }
            count += w.delivered();
            if (w.consumer() == cons) {
                break; // the next record is not committed yet
            }
            cons = w.consumer();
        }
        delivered += count;
        return count;
    }

    private void deliver(MemorySegment record) {
        try {
            listener.accept(record);
        } catch (RuntimeException e) {
            LOG.atError().setMessage("ring buffer listener failed on a record; continuing")
                    .addKeyValue("map", label)
                    .setCause(e)
                    .log();
        }
    }

    /** Records delivered so far. */
    public long delivered() {
        return delivered;
    }

    /** Stops the thread (within one poll interval), unmaps and closes. */
    @Override
    public void close() {
        if (closed) {
            return;
        }
        closed = true;
        try {
            thread.join(5_000);
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
        }
        epoll.close();
        arena.close();
    }

    /** Copies a record's payload, for listeners that keep it. */
    public static byte[] copy(MemorySegment record) {
        return record.toArray(JAVA_BYTE);
    }
}
