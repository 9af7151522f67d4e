package jwg.tunnel;

import io.netty.util.internal.PlatformDependent;
import java.util.Queue;
import java.util.concurrent.atomic.AtomicInteger;
import java.util.concurrent.atomic.AtomicLong;

/**
 * A bounded pool of {@link Packet}s for one direction, so that the packet path allocates nothing in its steady
 * state. Packets are made on first demand, up to the limit, so an idle device holds only what it once needed. When
 * all are in use the pipeline is behind, and the caller drops the newest packet rather than queueing without bound.
 *
 * <p>Buffers grow for packets bigger than {@link Packet#INITIAL_CAPACITY} (tunnel MTUs up to 65,000 are allowed), so
 * the pool also bounds the bytes held in such grown buffers, in flight or pooled, by {@link #LARGE_BYTES}: without
 * it, 8,192 packets of 64 KB would want 512 MB. A packet that cannot grow within the bound is dropped; a grown
 * buffer that comes back while the bound is exceeded is given up.
 *
 * <p>Thread-safe and lock-free (a fixed multi-producer, multi-consumer queue and an atomic byte count).
 */
final class PacketPool {
    private final Queue<Packet> free;
    /** Bytes in grown buffers, per direction: 1,000 packets of 64 KB, 25,000 of 2.5 KB. */
    static final long LARGE_BYTES = 64L << 20;

    private final AtomicInteger made = new AtomicInteger();
    private final AtomicLong largeBytes = new AtomicLong();
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

    /**
     * Makes sure p's buffer holds size bytes (its contents are not kept), within {@link #LARGE_BYTES}. False: no
     * room, drop the packet. The thread that holds p only.
     */
    boolean fit(Packet p, int size) {
        if (size <= p.buf.length) {
            return true;
        }
        long more = size - p.largeBytes;
        if (largeBytes.addAndGet(more) > LARGE_BYTES) {
            largeBytes.addAndGet(-more);
            return false;
        }
        p.buf = new byte[size];
        p.largeBytes = size;
        return true;
    }

    void give(Packet p) {
        p.reset();
        // A buffer grown elsewhere (staged packets) is counted now; over the bound, a grown buffer is let go.
        int large = p.buf.length > Packet.INITIAL_CAPACITY ? p.buf.length : 0;
        long total = largeBytes.addAndGet(large - p.largeBytes);
        p.largeBytes = large;
        if (large > 0 && total > LARGE_BYTES) {
            largeBytes.addAndGet(-large);
            p.buf = new byte[Packet.INITIAL_CAPACITY];
            p.largeBytes = 0;
        }
        free.offer(p);
    }

    /** How many packets exist (in the pool or in flight). */
    int made() {
        return made.get();
    }
}
