package jwg.tunnel;

import io.netty.util.internal.PlatformDependent;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicInteger;

/**
 * A bounded pool of {@link Packet}s for one direction, so that the packet path allocates nothing in its steady
 * state. Packets are made on first demand, up to the limit, so an idle device holds only what it once needed. When
 * all are in use the pipeline is behind, and the caller drops the newest packet rather than queueing without bound.
 *
 * <p>Thread-safe and lock-free (a fixed multi-producer, multi-consumer queue).
 */
final class PacketPool {
    private final Queue<Packet> free;
    private final AtomicInteger made = new AtomicInteger();
    private final int limit;

    PacketPool(int limit) {
        this.limit = limit;
        this.free = PlatformDependent.newFixedMpmcQueue(limit);
    }

    /** A clean packet, or null when every one of them is in flight. */
    Packet take() {
        Packet p = free.poll();
        if (p != null) {
            return p;
        }
        while (true) {
            int n = made.get();
            if (n >= limit) {
                return free.poll();
            }
            if (made.compareAndSet(n, n + 1)) {
                return new Packet();
            }
        }
    }

    void give(Packet p) {
        p.reset();
        free.offer(p);
    }

    /** How many packets exist (in the pool or in flight). */
    int made() {
        return made.get();
    }
}
