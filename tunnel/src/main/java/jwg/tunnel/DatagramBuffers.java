package jwg.tunnel;

import io.netty.buffer.AbstractByteBufAllocator;
import io.netty.buffer.ByteBuf;
import io.netty.buffer.ByteBufAllocator;
import io.netty.buffer.UnpooledUnsafeDirectByteBuf;
import io.netty.util.internal.PlatformDependent;
import java.nio.ByteBuffer;
import java.util.Queue;

/**
 * The UDP socket's allocator: its big buffers (a GRO receive, a recvmmsg batch) are kept for reuse, the
 * rest come from Netty's default allocator. What is kept is the whole buffer object, not only its memory: a new
 * wrapper per receive or send was the receiving daemon's largest allocation at a paced 50 Mbit/s (bench/profile
 * --rate 50M), where each batch holds a packet or two, and every young collection it caused is a pause for traffic.
 *
 * <p>Why: the daemon runs with a heap under 512 MB, and with that Netty's adaptive allocator pools nothing over
 * 256 KB and, on threads that are not its event loops, nothing over its size classes: every 64 KB buffer of a GSO
 * send was a fresh direct buffer, zeroed and freed. Measured by bench/profile at 2.6 Gbit/s: 7.5% of the sending TUN
 * thread in {@code Bits.setMemory}. Raising Netty's threshold instead would pool everything in chunks of up to
 * 8 MiB per thread, against a small footprint.
 *
 * <p>Thread-safety: any thread allocates and releases; the free lists are bounded lock-free queues. A buffer released
 * when its list is full is freed.
 */
final class DatagramBuffers extends AbstractByteBufAllocator {
    /** Smaller requests (a handshake message, a lone datagram) are Netty's: its size classes pool them well. */
    static final int SMALL = 16 * 1024;
    /** A GRO receive: 64 KiB at most, by UDP's own length field. */
    static final int RUN = 64 * 1024;
    /**
     * Idle runs held: the receive buffer and a few more, for datagrams still held by the packet path when the next
     * receive starts. Sends of transport data no longer come here ({@link SendBatch} writes from memory of its own),
     * so nothing near the socket's send queue's worth (4 MiB, which this list held before) is ever idle here.
     */
    static final int KEEP_RUNS = 4;

    private final Queue<Kept> runs = PlatformDependent.newFixedMpmcQueue(KEEP_RUNS);
    private final int batch;
    private final Queue<Kept> batches;

    /** batch: the size of a receive buffer that holds many datagrams (recvmmsg), 0 if there is none. */
    DatagramBuffers(int batch) {
        super(true);
        this.batch = batch;
        this.batches = batch > RUN ? PlatformDependent.newFixedMpmcQueue(2) : null;
    }

    /** Buffers held for reuse now. */
    int idle() {
        return runs.size() + (batches == null ? 0 : batches.size());
    }

    @Override
    protected ByteBuf newDirectBuffer(int initialCapacity, int maxCapacity) {
        if (initialCapacity > SMALL && initialCapacity <= RUN) {
            return take(runs, RUN);
        }
        if (batches != null && initialCapacity > RUN && initialCapacity <= batch) {
            return take(batches, batch);
        }
        return ByteBufAllocator.DEFAULT.directBuffer(initialCapacity, maxCapacity);
    }

    private ByteBuf take(Queue<Kept> from, int size) {
        Kept k = from.poll();
        if (k == null) {
            return new Kept(this, from, ByteBuffer.allocateDirect(size));
        }
        k.reuse();
        return k;
    }

    @Override
    protected ByteBuf newHeapBuffer(int initialCapacity, int maxCapacity) {
        return ByteBufAllocator.DEFAULT.heapBuffer(initialCapacity, maxCapacity);
    }

    @Override
    public boolean isDirectBufferPooled() {
        return true;
    }

    /**
     * A big buffer that goes back on its free list, whole, when its last reference is released. As with Netty's own
     * pooled buffers, a reference used after its release now reads or writes the buffer's next use instead of
     * failing.
     */
    private static final class Kept extends UnpooledUnsafeDirectByteBuf {
        private final Queue<Kept> home;
        private final ByteBuffer memory;

        Kept(DatagramBuffers owner, Queue<Kept> home, ByteBuffer memory) {
            // Wrapped as it is (no slice) and never freed by Netty: the memory is ours to reuse.
            super(owner, false, memory, memory.capacity());
            this.home = home;
            this.memory = memory;
            clear(); // a wrapped buffer starts full
        }

        /** Back to a fresh buffer's state: one reference, empty, marks at 0. */
        void reuse() {
            resetRefCnt();
            clear();
            markReaderIndex();
            markWriterIndex();
        }

        @Override
        protected void deallocate() {
            if (!home.offer(this)) {
                super.deallocate();
                PlatformDependent.freeDirectBuffer(memory);
            }
        }
    }
}
