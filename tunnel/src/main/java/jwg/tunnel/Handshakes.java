package jwg.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.util.internal.PlatformDependent;
import java.lang.invoke.VarHandle;
import java.net.InetSocketAddress;
import java.util.Queue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import jwg.noise.CookieChecker;
import jwg.noise.Drop;
import jwg.noise.Handshake;
import jwg.noise.Message;
import jwg.noise.Result;
import jwg.noise.StaticIdentity;

/**
 * The device's handshake workers: every message that costs DH work (initiations received and made, responses) runs
 * here, one thread per core, never on a packet thread. A received message is checked before any DH: mac1 always;
 * while the device is under load, mac2 (else a cookie reply goes back instead) and the per-source rate limit (§5.3,
 * §5.4.7).
 *
 * <p>Under a flood of initiations (anyone who knows our public key can make them pass mac1) a legitimate peer must
 * still get through, so received messages wait in three queues, and the workers always take from the first first:
 * <ul>
 * <li>answers: responses and cookie replies to our own initiations. The UDP loop lets in only those whose receiver
 *     index is one we handed out (a stranger would have to guess 32 bits), so a flood cannot reach this queue; a
 *     response gets to its peer only while the index names a handshake in flight or, for a second after our
 *     initiation was answered, the session it made ({@link #mayAnswer}), and then costs a peer at most
 *     {@code Handshake.MAX_FURTHER_ATTEMPTS} further DH pairs per initiation;</li>
 * <li>known senders: initiations from an address that is one of our peers' endpoints, at most
 *     {@link Ratelimiter#PACKETS_PER_SECOND} a second from each (the rest queue with the others), so a flood that
 *     spoofs an endpoint takes only that much from the strangers' queue. A peer that rekeys, or answers our cookie
 *     reply with mac2, from where it was does not wait behind the flood: with a single queue its initiation was
 *     dropped as often as the flood's were (5% of them at 80,000 a second on 2 cores), each time costing it
 *     REKEY_TIMEOUT;</li>
 * <li>initiations, {@link #QUEUE} deep: when it is full the newest is dropped, as the kernel and wireguard-go do.</li>
 * </ul>
 * The known senders' lane decides nothing: its messages pass the same mac1, mac2 and rate limit checks.
 * Under load means: the initiation queue was at least {@link #UNDER_LOAD_QUEUE} deep less than a second ago
 * (wireguard-go's rule and figures: 1024 slots, under load from an eighth full). What a worker sends (a response, a
 * cookie reply) leaves through {@link Udp#sendDirect} on the worker's own thread: through the event loop, a flood's
 * cookie replies made the loop send as many datagrams as it received, and the legitimate peer's datagrams waited
 * behind them in the socket's receive queue.
 *
 * <p>Concurrency: the UDP event loop alone takes messages in ({@link #received}); any worker takes them out. Message
 * buffers come from a pool and go back to it, so taking a message in allocates nothing and takes no lock (the queues
 * are lock-free). Work for one peer may run on several workers at once; the peer's lock serialises it.
 */
final class Handshakes implements AutoCloseable {
    static final int QUEUE = 1024;
    static final int UNDER_LOAD_QUEUE = QUEUE / 8;
    static final long UNDER_LOAD_FOR_NANOS = 1_000_000_000L;
    /** Answers to our own initiations in flight at once: a few per peer that is mid-handshake. */
    static final int ANSWERS = 256;
    /** Initiations from known senders waiting at once: a rekey or a retry per peer, and each peer's is rate-limited. */
    static final int KNOWN = 256;
    /** An idle worker sleeps until work arrives; this bound only keeps a missed wake-up from being a lasting one. */
    private static final long IDLE_PARK_NANOS = 100_000_000L;
    /**
     * The workers' nice value. Under a flood they always have work, and at the UDP loop's priority they took most of
     * the CPU from it on a 2-core machine (the flooder on the other core): the loop fell behind, the socket's receive
     * queue filled with the flood, and the legitimate peer's packets waited behind it or were dropped there (CI, 1
     * round: RTT p50 111 ms against wireguard-go's 4, 27 % lost, the handshake's retry among them). At nice 10 a
     * worker's share against a thread at 0 is about a tenth; the answers and known senders they take first need little.
     */
    private static final int WORKER_NICE = 10;

    /** One handshake message as received (classified: its type is msg[0]), in a buffer that is reused. */
    private static final class Received {
        final byte[] msg = new byte[Message.INITIATION_LEN];
        int length;
        InetSocketAddress from;
    }

    private final Device device;
    private final Queue<Received> free;
    private final Queue<Received> answers;
    private final Queue<Received> known;
    private final Queue<Received> initiationsIn;
    private final Worker[] workers;
    private volatile boolean closed;
    /**
     * This side's own initiations and roaming's probes: never refused, or a peer whose request was lost would not
     * initiate again. At most one initiation per peer waits (Peer asks only when none is queued), so it is bounded
     * by the number of peers. Its threads are made with the device ({@link Device#prestarted}) and stay: when they
     * timed out after 1 s of quiet, as they did until 2026-12-02, every initiation after a quiet second waited for a
     * new thread, and the time from the TUN reader's request to the initiation's start was 0.3-11 ms (typically
     * 1-2.5) in a tunnel's warm handshakes (peers removed and re-added, then a packet), against 0.1-0.3 ms with the
     * threads kept (2 cores).
     */
    private final ThreadPoolExecutor initiations;
    private final Ratelimiter ratelimiter = new Ratelimiter();
    /** Admission to the known senders' lane, per source (UDP loop only). */
    private final Ratelimiter knownLimiter = new Ratelimiter();
    private volatile long underLoadSince;

    Handshakes(Device device, int threads) {
        this.device = device;
        this.underLoadSince = device.now() - 2 * UNDER_LOAD_FOR_NANOS;
        int buffers = QUEUE + ANSWERS + KNOWN + threads;
        this.free = PlatformDependent.newFixedMpmcQueue(buffers);
        for (int i = 0; i < buffers; i++) {
            free.offer(new Received());
        }
        this.answers = PlatformDependent.newFixedMpmcQueue(ANSWERS);
        this.known = PlatformDependent.newFixedMpmcQueue(KNOWN);
        this.initiationsIn = PlatformDependent.newFixedMpmcQueue(QUEUE);
        this.workers = new Worker[threads];
        for (int i = 0; i < threads; i++) {
            workers[i] = new Worker();
        }
        for (Worker w : workers) {
            w.thread.start();
        }
        this.initiations = Device.prestarted(new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS,
                new LinkedBlockingQueue<>(), Device.daemonThreads("jwg-initiate")));
    }

    /**
     * A datagram of a handshake type (initiation, response or cookie reply) from the network, content[at, at+len).
     * Classified, and an answer checked against our receiver indices, before it may take a place in a queue. UDP
     * loop only; allocates nothing.
     */
    void received(ByteBuf content, int at, int len, int type, InetSocketAddress from) {
        if (len > Message.INITIATION_LEN) {
            device.count(Drop.MALFORMED);
            return;
        }
        Received r = free.poll();
        if (r == null) {
            device.count(Drop.HANDSHAKE_QUEUE_FULL);
            return;
        }
        content.getBytes(at, r.msg, 0, len);
        if (Message.classify(r.msg, 0, len) != type) {
            refuse(r, Drop.MALFORMED);
            return;
        }
        Queue<Received> queue = initiationsIn;
        if (type != Message.INITIATION) {
            int receiver = Message.getInt(r.msg, type == Message.RESPONSE ? Message.RESPONSE_RECEIVER
                    : Message.COOKIE_REPLY_RECEIVER);
            if (device.indices().get(receiver) == null) {
                refuse(r, Drop.UNKNOWN_INDEX);
                return;
            }
            queue = answers;
        } else {
            long now = device.now();
            if (queue.size() >= UNDER_LOAD_QUEUE) {
                underLoadSince = now;
            }
            if (device.isPeerEndpoint(from) && knownLimiter.allow(from.getAddress(), now)) {
                queue = known;
            }
        }
        r.length = len;
        r.from = from;
        if (!queue.offer(r) && (queue != known || !initiationsIn.offer(r))) {
            refuse(r, Drop.HANDSHAKE_QUEUE_FULL);
            return;
        }
        wakeOne();
    }

    /** r goes back to the pool, counted under why. */
    private void refuse(Received r, Drop why) {
        r.from = null;
        free.offer(r);
        device.count(why);
    }

    private void wakeOne() {
        // The queue's offer publishes with a release store; the fence keeps the read of parked below from being
        // ordered before it, which could miss a worker just going to sleep.
        VarHandle.fullFence();
        for (Worker w : workers) {
            if (w.parked) {
                w.parked = false;
                LockSupport.unpark(w.thread);
                return;
            }
        }
    }

    /** Runs task (an initiation, a probe) on a thread that may do DH work; false once the device is closing. */
    boolean initiate(Runnable task) {
        try {
            initiations.execute(task);
            return true;
        } catch (RejectedExecutionException closed) {
            return false;
        }
    }

    private boolean underLoad() {
        return device.now() - underLoadSince < UNDER_LOAD_FOR_NANOS;
    }

    private final class Worker implements Runnable {
        final Thread thread = Device.daemonThreads("jwg-handshake").newThread(this);
        volatile boolean parked;

        @Override
        public void run() {
            Posix.lowerPriority(WORKER_NICE);
            while (!closed) {
                Received r = answers.poll();
                if (r == null) {
                    r = known.poll();
                }
                if (r == null) {
                    r = initiationsIn.poll();
                }
                if (r == null) {
                    parked = true;
                    VarHandle.fullFence();
                    if (answers.isEmpty() && known.isEmpty() && initiationsIn.isEmpty() && !closed) {
                        LockSupport.parkNanos(this, IDLE_PARK_NANOS);
                    }
                    parked = false;
                    continue;
                }
                try {
                    handle(r.msg, r.length, r.from);
                } catch (RuntimeException e) {
                    device.log().error("handshake message from " + Uapi.formatEndpoint(r.from) + " failed: " + e);
                } finally {
                    r.from = null;
                    free.offer(r);
                }
            }
        }
    }

    /** A classified message msg[0, len) from the pool (read it here, keep no reference: the buffer is reused). */
    private void handle(byte[] msg, int len, InetSocketAddress from) {
        int type = msg[0];
        if (type == Message.COOKIE_REPLY) {
            Session s = device.indices().get(Message.getInt(msg, Message.COOKIE_REPLY_RECEIVER));
            if (s == null) {
                device.count(Drop.UNKNOWN_INDEX);
            } else {
                s.peer().consumeCookieReply(msg, device.now());
            }
            return;
        }
        CookieChecker checker = device.cookieChecker();
        StaticIdentity identity = device.identity();
        if (checker == null || identity == null) {
            device.count(Drop.NO_IDENTITY);
            return;
        }
        if (!checker.checkMac1(msg, 0, len)) {
            device.count(Drop.BAD_MAC1);
            return;
        }
        long now = device.now();
        if (underLoad()) {
            byte[] source = CookieChecker.source(from.getAddress().getAddress(), from.getPort());
            if (!checker.checkMac2(msg, 0, len, source, now)) {
                byte[] reply = new byte[Message.COOKIE_REPLY_LEN];
                checker.createReply(msg, 0, len, source, now, reply, 0);
                device.sendHandshake(reply, from);
                device.count(Drop.COOKIE_REPLY_SENT);
                return;
            }
            if (!ratelimiter.allow(from.getAddress(), now)) {
                device.count(Drop.RATE_LIMITED);
                return;
            }
        }
        if (type == Message.INITIATION) {
            initiation(identity, msg, len, from, now);
        } else {
            response(msg, from, now);
        }
    }

    private void initiation(StaticIdentity identity, byte[] msg, int len, InetSocketAddress from, long now) {
        Result<Handshake> r = Handshake.consumeInitiation(identity, msg, 0, key -> {
            Peer p = device.peer(key);
            return p == null ? null : p.handshake();
        }, now);
        if (r instanceof Result.Dropped<Handshake> d) {
            device.count(d.reason());
            device.log().verbose("dropped a handshake initiation from " + Uapi.formatEndpoint(from) + ": "
                    + d.reason());
            return;
        }
        Peer peer = device.peer(r.valueOrNull().remoteStatic());
        if (peer == null) {
            device.count(Drop.UNKNOWN_PEER);
            return;
        }
        peer.respond(from, len, now);
    }

    private void response(byte[] msg, InetSocketAddress from, long now) {
        Session s = device.indices().get(Message.getInt(msg, Message.RESPONSE_RECEIVER));
        if (!mayAnswer(s)) {
            device.count(Drop.UNKNOWN_INDEX);
            return;
        }
        s.peer().consumeResponse(msg, from, now);
    }

    /**
     * Whether a response naming s (null: an index of no one) goes to its peer: s is a handshake in flight, or the
     * session of an initiation whose further answers are still looked for ({@link Peer#answersOpen}); anything else
     * is dropped without taking the peer's lock.
     */
    static boolean mayAnswer(Session s) {
        return s != null && (s.keypair() == null || s.peer().answersOpen());
    }

    @Override
    public void close() {
        closed = true;
        for (Worker w : workers) {
            LockSupport.unpark(w.thread);
        }
        initiations.shutdownNow();
    }
}
