package jwg.tunnel;

import java.util.concurrent.atomic.AtomicBoolean;
import java.util.function.Consumer;

/**
 * One peer's packets in flight in one direction, in the order they must leave the pipeline: packets are added in
 * order, finish sealing or opening in any order on the workers, and are taken out only from the head, only once the
 * head is done. So a packet that finishes early waits for the ones in front of it.
 *
 * <p>Concurrency: {@link #add} is called by one producer at a time (outbound: under the peer's lock, which is what
 * ties counter order to queue order; inbound: the UDP event loop alone). {@link #drain} may be called by any worker
 * at any time; one drainer runs at a time, and a completion that races with a drainer finishing is picked up by the
 * re-check, never lost. The ring's own lock is per peer and direction, held for a few field writes, never while the
 * peer's lock is taken or a packet is handed on.
 */
final class OrderedQueue {
    /** Where a ring starts: most peers never have more in flight, and a device may have tens of thousands. */
    private static final int INITIAL = 16;

    private final int capacity;
    private Packet[] ring = new Packet[INITIAL];
    private int mask = INITIAL - 1;
    private long head;
    private long tail;
    private final AtomicBoolean draining = new AtomicBoolean();

    /** capacity: the most packets in flight, a power of two; the ring grows to it as needed. */
    OrderedQueue(int capacity) {
        if (Integer.bitCount(capacity) != 1 || capacity < INITIAL) {
            throw new IllegalArgumentException("capacity must be a power of two, at least " + INITIAL);
        }
        this.capacity = capacity;
    }

    /** Appends p; false when the queue is full (the caller drops p). */
    synchronized boolean add(Packet p) {
        if (tail - head == ring.length) {
            if (ring.length == capacity) {
                return false;
            }
            grow();
        }
        ring[(int) (tail++ & mask)] = p;
        return true;
    }

    private void grow() {
        Packet[] bigger = new Packet[ring.length * 2];
        for (long i = head; i < tail; i++) {
            bigger[(int) (i & (bigger.length - 1))] = ring[(int) (i & mask)];
        }
        ring = bigger;
        mask = bigger.length - 1;
    }

    /** Hands every finished packet at the head to sink, in order, until the head is unfinished or the queue empty. */
    void drain(Consumer<Packet> sink) {
        while (draining.compareAndSet(false, true)) {
            try {
                for (Packet p; (p = pollDone()) != null; ) {
                    sink.accept(p);
                }
            } finally {
                draining.set(false);
            }
            if (!headDone()) {
                return;
            }
        }
    }

    synchronized int size() {
        return (int) (tail - head);
    }

    private synchronized Packet pollDone() {
        if (head == tail) {
            return null;
        }
        int i = (int) (head & mask);
        Packet p = ring[i];
        if (!p.isDone()) {
            return null;
        }
        ring[i] = null;
        head++;
        return p;
    }

    private synchronized boolean headDone() {
        return head != tail && ring[(int) (head & mask)].isDone();
    }
}
