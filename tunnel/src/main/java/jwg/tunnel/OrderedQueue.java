package jwg.tunnel;

import java.lang.invoke.MethodHandles;
import java.lang.invoke.VarHandle;
import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One peer's packets in flight in one direction, in the order they must leave the pipeline: packets are added in
 * order, finish sealing or opening in any order on the workers, and are taken out only from the head, only once the
 * head is done. So a packet that finishes early waits for the ones in front of it.
 *
 * <p>Concurrency: one producer at a time ({@link #add} is called under the peer's lock outbound, which is what ties
 * counter order to queue order, and by the UDP event loop alone inbound) and one consumer at a time ({@link #drain}
 * runs on any worker, but a flag lets only one drain at once, and a completion that races with a drainer finishing is
 * picked up by its re-check, never lost). So the ring needs no lock: the producer publishes a slot by advancing
 * {@code tail} with release semantics, the consumer frees one by advancing {@code head}. A lock here was contended by
 * the producer and the drainer on every packet (measured: one more context switch per packet).
 *
 * <p>The ring is allocated on the first packet: a device may have tens of thousands of peers that never send.
 */
final class OrderedQueue {
    private static final VarHandle HEAD;
    private static final VarHandle TAIL;

    static {
        try {
            MethodHandles.Lookup l = MethodHandles.lookup();
            HEAD = l.findVarHandle(OrderedQueue.class, "head", long.class);
            TAIL = l.findVarHandle(OrderedQueue.class, "tail", long.class);
        } catch (ReflectiveOperationException e) {
            throw new ExceptionInInitializerError(e);
        }
    }

    private final int capacity;
    private volatile Packet[] ring;
    private volatile long head;
    private volatile long tail;
    private final AtomicBoolean draining = new AtomicBoolean();

    /** capacity: the most packets in flight, a power of two. */
    OrderedQueue(int capacity) {
        if (Integer.bitCount(capacity) != 1) {
            throw new IllegalArgumentException("capacity must be a power of two: " + capacity);
        }
        this.capacity = capacity;
    }

    /** Appends p; false when the queue is full (the caller drops p). Producer only. */
    boolean add(Packet p) {
        long t = (long) TAIL.getOpaque(this);
        if (t - (long) HEAD.getAcquire(this) == capacity) {
            return false;
        }
        Packet[] r = ring;
        if (r == null) {
            r = new Packet[capacity];
            ring = r;
        }
        r[(int) (t & (capacity - 1))] = p;
        TAIL.setRelease(this, t + 1);
        return true;
    }

    /** Hands every finished packet at the head to sink, in order, until the head is unfinished or the queue empty. */
    void drain(Consumer<Packet> sink) {
        drain(sink, null);
    }

    /**
     * As {@link #drain(Consumer)}; handOff (if not null) runs after the last packet of each turn as drainer, before the
     * next drainer may start, for a drainer that holds packets back in batches of its own: what it passes on there
     * stays ahead of whatever the next drainer passes on.
     */
    void drain(Consumer<Packet> sink, Runnable handOff) {
        while (draining.compareAndSet(false, true)) {
            boolean any = false;
            try {
                for (Packet p; (p = pollDone()) != null; ) {
                    any = true;
                    sink.accept(p);
                }
            } finally {
                if (any && handOff != null) {
                    handOff.run();
                }
                draining.set(false);
            }
            if (!headDone()) {
                return;
            }
        }
    }

    /** Packets in the queue, finished or not. */
    int size() {
        return (int) ((long) TAIL.getAcquire(this) - (long) HEAD.getAcquire(this));
    }

    /** The head if it is finished, taken out of the ring. Only the drainer holding the flag calls it. */
    private Packet pollDone() {
        long h = (long) HEAD.getOpaque(this);
        if (h == (long) TAIL.getAcquire(this)) {
            return null;
        }
        Packet[] r = ring;
        int i = (int) (h & (capacity - 1));
        Packet p = r[i];
        if (!p.isDone()) {
            return null;
        }
        r[i] = null;
        HEAD.setRelease(this, h + 1);
        return p;
    }

    /** Whether the head is finished: a hint, read without the flag, that another drain is due. */
    private boolean headDone() {
        long h = (long) HEAD.getAcquire(this);
        if (h == (long) TAIL.getAcquire(this)) {
            return false;
        }
        Packet p = ring[(int) (h & (capacity - 1))];
        return p != null && p.isDone();
    }
}
