package jwg.tunnel;

import io.netty.util.internal.PlatformDependent;
import java.lang.invoke.VarHandle;
import java.util.Queue;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import java.util.function.IntSupplier;
import jwg.noise.Drop;

/**
 * The packet path's parallel stage, and the rule that keeps each peer's packets in order through it.
 *
 * <pre>
 * outbound  TUN reader:   read → allowed IPs by destination → Peer.send, under the peer's lock: the next counter
 *                         and the next place in peer.outbound, together (or staged, for want of a session)
 *           any worker:   seal                                                        (parallel, any order)
 *           one drainer:  peer.outbound's finished head → UDP send                    (in counter order)
 * inbound   UDP loop:     receive → receiver index → the next place in peer.inbound   (in arrival order)
 *           any worker:   decrypt and authenticate                                    (parallel, any order)
 *           one drainer:  peer.inbound's finished head → Peer.receive (replay window, timers, endpoint)
 *                         → allowed IPs by source → TUN write                         (in arrival order)
 * </pre>
 *
 * Batches: the TUN reader hands a read's segments to Peer.send at once, and a drainer hands the packets of its turn
 * to Peer.receive at once, so the peer's lock, its timers and its endpoint are touched once per batch. A feeding
 * thread hands on what it sealed or opened itself per read (at most {@link #BATCH} packets) rather than per packet.
 *
 * Why order matters: a peer's TCP sees reordering as loss, and the replay window (8,128 counters wide) would reject
 * packets that fall too far behind. So counters are assigned and queue places taken in one step, crypto runs on
 * every core, and a packet leaves only once all that were queued before it for its peer have left. Staged packets
 * take their counters before any newer packet can (see {@link Peer}), so they leave first. The replay window is
 * consulted in the ordered half, after authentication, so it sees each counter once and in arrival order, exactly
 * as with a single thread.
 *
 * <p>Concurrency: each worker has its own lock-free queue, fed round-robin; nothing is shared by all packets. A
 * worker that finishes a packet drains that packet's queue; {@link OrderedQueue} lets one drainer run per queue and
 * never loses a completion. Sends are flushed when a worker runs out of work, or every {@link #FLUSH_EVERY} sends.
 */
final class Pipeline implements AutoCloseable {
    /** Where packets go once they leave the pipeline in order. Called on worker threads. */
    interface Sink {
        /** A sealed message, p.buf[0, p.result), for p.address. Takes the packet. */
        void transmit(Packet p);

        /** The end of a burst of transmits and deliveries from one thread: push them out. */
        void flush();

        /**
         * The end of one thread's turn at draining a peer's queue, when other threads may drain it next: what this
         * thread holds back from that turn (a send batch, coalesced packets) must be passed on now, or the next
         * drainer's packets could overtake it. It need not be pushed out: a later {@link #flush} does that.
         */
        void handOff();

        /** An authenticated IP packet of n bytes at p.buf[16...] for the TUN device. Takes the packet. */
        void deliver(Packet p, int n);

        /** p goes no further: count it under why, and take the packet. */
        void dropped(Packet p, Drop why);

        /** p is done with (a keepalive arrived): take the packet. */
        void recycle(Packet p);

        /** Monotonic nanoseconds. */
        long now();

        /**
         * Something threw while sealing, opening or handing on (a bug, or the JVM out of memory): the packet in hand
         * was dropped and the worker carries on, so no queue is stranded behind a dead thread. The sink's own
         * methods must not throw.
         */
        void failed(Throwable e);
    }

    static final int FLUSH_EVERY = 64;
    /** The most packets of one peer a thread hands on as one batch (a GSO send's, a TUN read's worth). */
    static final int BATCH = 64;
    /** An idle worker sleeps until work arrives; this bound only keeps a missed wake-up from being a lasting one. */
    private static final long IDLE_PARK_NANOS = 100_000_000L;

    private final Sink sink;
    private final IntSupplier mtu;
    private final Worker[] workers;
    private int next;
    /** With no workers: the share of a thread that submits without being a feeder. */
    private final ThreadLocal<Worker> callers = ThreadLocal.withInitial(Worker::new);
    private volatile boolean closed;

    /**
     * workers: threads of its own (0: the feeding threads do all the work); capacity: how many packets can be in flight
     * at once (the packet pools' total), so no worker queue overflows.
     */
    Pipeline(int workers, int capacity, Sink sink, IntSupplier mtu, String name) {
        this.sink = sink;
        this.mtu = mtu;
        this.workers = new Worker[workers];
        for (int i = 0; i < workers; i++) {
            this.workers[i] = new Worker(capacity, name + "-crypto-" + i);
        }
        for (Worker w : this.workers) {
            w.thread.start();
        }
    }

    int workers() {
        return workers.length;
    }

    /**
     * Hands a packet to a worker: outbound once it has its counter and place in peer.outbound, inbound once it has
     * its place in peer.inbound. Any thread.
     */
    void submit(Packet p) {
        if (workers.length == 0) {
            // No workers: the calling thread is the pipeline (the same steps, so the same ordering rule). Only
            // threads that are not feeders get here (timers, handshakes), each with a share of its own.
            Worker here = callers.get();
            here.process(p);
            flush(here);
            return;
        }
        // A racy counter: a lost increment only makes the spread a little uneven.
        int i = (next++ & Integer.MAX_VALUE) % workers.length;
        Worker w = workers[i];
        w.queue.offer(p);
        // The queue publishes with a release store; without a full fence the read of parked below could be ordered
        // before it, miss a worker that is just going to sleep, and leave p in its queue until the next submit.
        VarHandle.fullFence();
        if (w.parked) {
            LockSupport.unpark(w.thread);
        }
    }

    /**
     * A thread that feeds the pipeline (the TUN reader, the UDP event loop) takes a share of the crypto itself: one
     * packet in (workers + 1), so a single flow on a small machine does not pay a hand-over and a wake-up for every
     * packet (measured on 2 cores: ~0.65× the throughput of the single-threaded path without it). It processes its
     * packets exactly as a worker does, so the ordering rule is the same. Each feeding thread gets its own.
     */
    Worker feeder() {
        return new Worker();
    }

    /** Whether the feeding thread f should seal or open its next packet itself. f's thread only. */
    boolean feederTurn(Worker f) {
        if (++f.turn > workers.length) {
            f.turn = 0;
            return true;
        }
        return false;
    }

    /**
     * Seals or opens p on the feeding thread. What is in order is handed on in batches: when f moves on to another
     * peer's queue, after {@link #BATCH} packets, or at f's next {@link #handOn} or {@link #flush}, whichever comes
     * first. So a read's worth of one peer's packets passes the peer's lock and timers once. f's thread only.
     */
    void runHere(Worker f, Packet p) {
        f.processHeld(p);
    }

    /** Hands on what the feeding thread finished and holds (call at the end of each read). f's thread only. */
    void handOn(Worker f) {
        f.drainHeld();
    }

    /** Pushes out what the feeding thread transmitted (call when it runs out of input). f's thread only. */
    void flush(Worker f) {
        f.drainHeld();
        if (f.unflushed > 0) {
            f.unflushed = 0;
            sink.flush();
        }
    }

    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w.thread);
        }
    }

    final class Worker implements Runnable {
        final Queue<Packet> queue;
        final Thread thread;
        volatile boolean parked;
        private int unflushed;
        private int turn;
        /** A feeder's: the queue of the packets it finished but has not handed on yet, and how many. */
        private OrderedQueue held;
        private boolean heldOutbound;
        private int heldCount;
        /** The packets of the current turn at a peer's inbound queue, for {@link Peer#receive(Packet[], int, long)}. */
        private final Packet[] arrived = new Packet[BATCH];
        private int arrivedCount;
        // Made once, so draining allocates nothing.
        private final Consumer<Packet> transmitInOrder = this::transmitInOrder;
        private final Consumer<Packet> deliverInOrder = this::deliverInOrder;
        /**
         * With workers, several threads take turns at each peer's queue, so each turn ends with a hand-off. With none,
         * each direction's data has one drainer (the TUN reader, the UDP event loop), which keeps its batches across
         * turns: a batch per turn would be a GSO send or a TUN write per packet. The other threads (timers,
         * handshakes) flush at once, and what they send is keepalives, which may pass data harmlessly, and staged
         * packets, which wait only while the peer has no session, so no batch of the feeder's holds any for it.
         */
        private final Runnable handOff = workers.length > 0 ? sink::handOff : null;
        private final Runnable endInboundTurn = this::endInboundTurn;

        Worker(int capacity, String name) {
            queue = PlatformDependent.newFixedMpscQueue(capacity);
            thread = new Thread(this, name);
            thread.setDaemon(true);
        }

        /** A feeding thread's share: no queue and no thread of its own. */
        Worker() {
            queue = null;
            thread = null;
        }

        @Override
        public void run() {
            while (!closed) {
                Packet p = queue.poll();
                if (p != null) {
                    process(p);
                    continue;
                }
                if (unflushed > 0) {
                    unflushed = 0;
                    sink.flush();
                    continue;
                }
                parked = true;
                if (queue.isEmpty() && !closed) {
                    LockSupport.parkNanos(this, IDLE_PARK_NANOS);
                }
                parked = false;
            }
            sink.flush();   // what a closing worker still held, so no pooled buffer is left behind
        }

        /**
         * Seals or opens p, then drains its peer's queue. Once p is marked done the drainer of its queue may send it
         * and recycle it (even for another peer), so the queue is read first. An exception here would kill the
         * worker and strand its queue: it becomes p's drop instead.
         */
        private void process(Packet p) {
            boolean outbound = p.outbound;
            OrderedQueue queue = outbound ? p.peer.outbound : p.peer.inbound;
            crypto(p);
            drain(queue, outbound);
        }

        /**
         * As {@link #process}, but the drain waits for the feeder's next packet of another queue, the batch's end or
         * {@link #drainHeld}. Meanwhile p is done, so any worker's drain may hand it on sooner: holding it back only
         * ever delays, and a drain is always still to come.
         */
        private void processHeld(Packet p) {
            boolean outbound = p.outbound;
            OrderedQueue queue = outbound ? p.peer.outbound : p.peer.inbound;
            if (held != queue) {
                drainHeld();
                held = queue;
                heldOutbound = outbound;
            }
            crypto(p);
            if (++heldCount >= BATCH) {
                drainHeld();
            }
        }

        private void drainHeld() {
            OrderedQueue queue = held;
            if (queue != null) {
                held = null;
                heldCount = 0;
                drain(queue, heldOutbound);
            }
        }

        private void crypto(Packet p) {
            try {
                p.result = p.outbound
                        ? p.keypair.seal(p.buf, 0, p.length, mtu.getAsInt(), p.counter)
                        : p.keypair.decrypt(p.buf, 0, p.length);
            } catch (RuntimeException | Error e) {
                p.result = Drop.MALFORMED.code();
                sink.failed(e);
            }
            p.markDone();
        }

        private void drain(OrderedQueue queue, boolean outbound) {
            try {
                if (outbound) {
                    queue.drain(transmitInOrder, handOff);
                } else {
                    queue.drain(deliverInOrder, endInboundTurn);
                }
            } catch (RuntimeException | Error e) {
                sink.failed(e);
            }
        }

        private void transmitInOrder(Packet p) {
            if (p.result < 0) {
                sink.dropped(p, Drop.ofCode(p.result));
            } else if (p.peer.isRemoved()) {
                sink.dropped(p, Drop.PEER_GONE);
            } else {
                sink.transmit(p);
                if (++unflushed >= FLUSH_EVERY) {
                    unflushed = 0;
                    sink.flush();
                }
            }
        }

        /** Collects the turn's packets: the peer takes them as one batch ({@link #endInboundTurn}). */
        private void deliverInOrder(Packet p) {
            arrived[arrivedCount++] = p;
            if (arrivedCount == BATCH) {
                deliverArrived();
            }
        }

        /** The end of a turn at an inbound queue: the batch to the peer and on, then the hand-off if there is one. */
        private void endInboundTurn() {
            deliverArrived();
            if (handOff != null) {
                handOff.run();
            }
        }

        private void deliverArrived() {
            int count = arrivedCount;
            if (count == 0) {
                return;
            }
            arrivedCount = 0;
            try {
                arrived[0].peer.receive(arrived, count, sink.now());
            } catch (RuntimeException e) {
                sink.failed(e);
                for (int i = 0; i < count; i++) {
                    arrived[i].result = Drop.MALFORMED.code();
                }
            }
            for (int i = 0; i < count; i++) {
                Packet p = arrived[i];
                arrived[i] = null;
                int n = p.result;
                if (n > 0) {
                    sink.deliver(p, n);
                    if (++unflushed >= FLUSH_EVERY) {
                        unflushed = 0;
                        sink.flush();
                    }
                } else if (n == 0) {
                    sink.recycle(p);
                } else {
                    sink.dropped(p, Drop.ofCode(n));
                }
            }
        }
    }
}
