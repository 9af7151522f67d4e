package jwg.tunnel;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.concurrent.locks.LockSupport;
import java.util.function.Consumer;
import jwg.noise.ChaCha20Poly1305;
import jwg.noise.Dh;
import jwg.noise.Drop;
import jwg.noise.Handshake;
import jwg.noise.IndexTable;
import jwg.noise.Keypair;
import jwg.noise.Message;
import jwg.noise.Protocol;
import jwg.noise.Secret;
import jwg.noise.StaticIdentity;
import org.openjdk.jmh.annotations.Benchmark;
import org.openjdk.jmh.annotations.BenchmarkMode;
import org.openjdk.jmh.annotations.Fork;
import org.openjdk.jmh.annotations.Level;
import org.openjdk.jmh.annotations.Measurement;
import org.openjdk.jmh.annotations.Mode;
import org.openjdk.jmh.annotations.OperationsPerInvocation;
import org.openjdk.jmh.annotations.OutputTimeUnit;
import org.openjdk.jmh.annotations.Param;
import org.openjdk.jmh.annotations.Scope;
import org.openjdk.jmh.annotations.Setup;
import org.openjdk.jmh.annotations.State;
import org.openjdk.jmh.annotations.TearDown;
import org.openjdk.jmh.annotations.Warmup;

/**
 * The packet path's crypto stage without I/O: {@link #BATCH} packets of {@link #SIZE} bytes for {@link #PEERS} peers,
 * through {@link Pipeline} with {@code workers} threads, timed from the first packet handed in until the sink has
 * had the last one. An op is one packet: ops/s is packets/s, and the plaintext rate is ops/s × 1420 bytes.
 *
 * <ul>
 *   <li>{@link #seal}: outbound, as the TUN reader does it: Peer.send (counter and place in the peer's queue, under
 *       its lock), sealing on the workers, Sink.transmit in counter order; the sink only recycles.</li>
 *   <li>{@link #open}: inbound, as the UDP loop does it: the datagram copied into a pooled packet, the receiver index
 *       looked up, the packet queued for its peer; decryption on the workers, then in arrival order Peer.receive (the
 *       replay window) and Sink.deliver, which only recycles. The datagrams are sealed, with fresh counters, before
 *       each batch, outside the timing but not outside -prof gc: open's allocation per op includes one seal's.</li>
 * </ul>
 * {@code workers} 0 is the baseline without the pipeline: the same peers and queues, but the thread that hands a
 * packet in seals or opens it and hands it on at once, as a single-threaded implementation would. On a machine with
 * C cores, the best workers can do is min(workers, C) times the baseline, less the hand-offs; the producing thread
 * needs a share of a core too.
 *
 * <p>The peers have real sessions, from handshakes through their own methods. Time is frozen at the handshake, so
 * no keypair ages, no timer fires and no rekey starts, however long the run.
 */
@State(Scope.Benchmark)
@BenchmarkMode(Mode.Throughput)
@OutputTimeUnit(TimeUnit.SECONDS)
@Warmup(iterations = 5, time = 1)
@Measurement(iterations = 5, time = 1)
@Fork(value = 1, jvmArgsAppend = {"--add-modules", "jdk.incubator.vector", "--enable-native-access=ALL-UNNAMED",
        "--add-opens", "java.base/com.sun.crypto.provider=ALL-UNNAMED",
        "--add-exports", "java.base/sun.security.util.math=ALL-UNNAMED", "-XX:CompileCommand=quiet",
        "-XX:CompileCommand=CompileThresholdScaling,jwg.noise.Poly1305Vector::blocks,0.002"})
public class PipelineBench {
    static final int PEERS = 4;
    static final int BATCH = 4096;
    static final int SIZE = Protocol.DEFAULT_MTU;
    private static final int MTU = Protocol.DEFAULT_MTU;

    /** Crypto threads; 0: none, sealing and opening inline on the calling thread. */
    @Param({"0", "1", "2"})
    public int workers;

    private World world;

    @Setup(Level.Trial)
    public void setUp() {
        ChaCha20Poly1305.warmUpVectorLanes(); // as the daemon does once traffic wants the lanes
        world = new World(workers);
    }

    @TearDown(Level.Trial)
    public void tearDown() {
        world.close();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void seal() {
        world.sendBatch();
    }

    @Benchmark
    @OperationsPerInvocation(BATCH)
    public void open(Datagrams datagrams) {
        world.receiveBatch(datagrams.batch);
    }

    /** The next batch for {@link #open}: BATCH datagrams from a, round-robin over its peers, with fresh counters. */
    @State(Scope.Thread)
    public static class Datagrams {
        final byte[][] batch = new byte[BATCH][];

        @Setup(Level.Invocation)
        public void seal(PipelineBench bench) {
            bench.world.sealBatch(batch);
        }
    }

    /**
     * A sender device a with PEERS peers and, for each, a receiver device b_i with one peer (a), all sharing one
     * pipeline and one pool, as one device's peers share its own; and the pipeline's sink, which counts and recycles.
     */
    static final class World implements Pipeline.Sink, AutoCloseable {
        private final PacketPool pool = new PacketPool(BATCH);
        private final Pipeline pipeline;
        private final Node a = new Node(1);
        private final Node[] b = new Node[PEERS];
        private final Peer[] toB = new Peer[PEERS];
        private final Peer[] toA = new Peer[PEERS];
        /** The frozen monotonic time: the handshakes'. */
        private final long now = System.nanoTime();
        private final AtomicLong left = new AtomicLong();
        private final AtomicLong dropped = new AtomicLong();
        private volatile long target = Long.MAX_VALUE;
        private volatile Thread waiter;
        private volatile Drop lastDrop;
        // Made once, so that handing packets on inline allocates nothing.
        private final Consumer<Packet> transmitInOrder = this::transmit;
        private final Consumer<Packet> deliverInOrder = this::deliverInOrder;

        World(int workers) {
            pipeline = workers == 0 ? null : new Pipeline(workers, BATCH, this, () -> MTU, "bench");
            for (int i = 0; i < PEERS; i++) {
                b[i] = new Node(10 + i);
                toB[i] = new Peer(b[i].identity.publicKey(), a);
                toA[i] = new Peer(a.identity.publicKey(), b[i]);
                connect(i);
            }
            // Each handshake ended with a keepalive from a; b's keypairs are confirmed by the first datagram of open.
            await(PEERS);
        }

        /** a initiates to b_i, b_i responds, a consumes the response (and sends its keepalive). */
        private void connect(int i) {
            toB[i].setEndpoint(b[i].address);
            toB[i].initiate(now);
            byte[] initiation = a.handshakes.poll();
            Handshake responder = toA[i].handshake();
            check(initiation != null && Handshake.consumeInitiation(b[i].identity, initiation, 0,
                    k -> k.equals(a.identity.publicKey()) ? responder : null, now).valueOrNull() == responder,
                    "initiation");
            toA[i].respond(a.address, initiation.length, now);
            byte[] response = b[i].handshakes.poll();
            check(response != null, "response");
            toB[i].consumeResponse(response, b[i].address, now);
            check(toB[i].currentKeypair() != null, "a's session with b" + i);
        }

        /** BATCH IP packets from the TUN device, round-robin over a's peers; returns once all are transmitted. */
        void sendBatch() {
            long end = expect(BATCH);
            for (int k = 0; k < BATCH; k++) {
                Packet p = take();
                p.outbound = true;
                p.length = SIZE;
                one[0] = p;
                toB[k % PEERS].send(one, 1, now);
            }
            one[0] = null;
            await(end);
        }

        /** One packet at a time for Peer.send and Peer.receive, without an array per packet. */
        private final Packet[] one = new Packet[1];
        private final Packet[] arrived = new Packet[1];

        /** Seals the next BATCH datagrams from a into batch, round-robin over a's peers, with a's next counters. */
        void sealBatch(byte[][] batch) {
            for (int k = 0; k < BATCH; k++) {
                byte[] d = batch[k];
                if (d == null) {
                    d = batch[k] = new byte[Keypair.sealedLength(SIZE, MTU)];
                }
                int ip = Message.TRANSPORT_HEADER_LEN;
                d[ip] = 0x45;
                d[ip + 2] = (byte) (SIZE >>> 8);
                d[ip + 3] = (byte) SIZE;
                check(toB[k % PEERS].currentKeypair().seal(d, 0, SIZE, MTU) == d.length, "seal");
            }
        }

        /** The datagrams in batch arrive, as Device.receiveTransport takes them; returns once all are delivered. */
        void receiveBatch(byte[][] batch) {
            long end = expect(BATCH);
            for (int k = 0; k < BATCH; k++) {
                byte[] d = batch[k];
                Packet p = take();
                p.outbound = false;
                p.ensureCapacity(d.length);
                System.arraycopy(d, 0, p.buf, 0, d.length);
                p.length = d.length;
                Session s = b[k % PEERS].indices.get(Message.getInt(p.buf, Message.TRANSPORT_RECEIVER));
                p.peer = s.peer();
                p.keypair = s.keypair();
                p.counter = Message.getLong(p.buf, Message.TRANSPORT_COUNTER);
                p.address = a.address;
                check(p.peer.inbound.add(p), "room in the inbound queue");
                if (pipeline != null) {
                    pipeline.submit(p);
                } else {
                    Peer peer = p.peer;
                    p.result = p.keypair.decrypt(p.buf, 0, p.length);
                    p.markDone();
                    peer.inbound.drain(deliverInOrder);
                }
            }
            await(end);
        }

        /** The ordered half of the pipeline's inbound path, for workers 0. */
        private void deliverInOrder(Packet p) {
            arrived[0] = p;
            p.peer.receive(arrived, 1, now);
            arrived[0] = null;
            int n = p.result;
            if (n > 0) {
                deliver(p, n);
            } else if (n == 0) {
                recycle(p);
            } else {
                dropped(p, Drop.ofCode(n));
            }
        }

        private Packet take() {
            for (Packet p; ; Thread.onSpinWait()) {
                if ((p = pool.take()) != null) {
                    return p;
                }
            }
        }

        /** The count of packets out once n more have left; set before they go in, so the last one wakes us. */
        private long expect(int n) {
            long end = left.get() + n;
            waiter = Thread.currentThread();
            target = end;
            return end;
        }

        private void await(long end) {
            while (left.get() < end) {
                LockSupport.parkNanos(this, 100_000);
            }
            if (dropped.get() != 0) {
                throw new IllegalStateException(dropped.get() + " packets dropped, the last for " + lastDrop);
            }
        }

        private void out(Packet p) {
            pool.give(p);
            if (left.incrementAndGet() == target) {
                LockSupport.unpark(waiter);
            }
        }

        @Override
        public void transmit(Packet p) {
            out(p);
        }

        @Override
        public void flush() {
        }

        @Override
        public void handOff() {
        }

        @Override
        public void deliver(Packet p, int n) {
            out(p);
        }

        @Override
        public void dropped(Packet p, Drop why) {
            lastDrop = why;
            dropped.incrementAndGet();
            out(p);
        }

        @Override
        public void recycle(Packet p) {
            out(p);
        }

        @Override
        public long now() {
            return now;
        }

        @Override
        public void failed(Throwable e) {
            throw new IllegalStateException("the pipeline's hand-on threw", e);
        }

        @Override
        public void close() {
            if (pipeline != null) {
                pipeline.close();
            }
        }

        /** A device around the peers, as far as they can tell. */
        private final class Node implements Driver {
            final SecureRandom random = new SecureRandom();
            final StaticIdentity identity = new StaticIdentity(Secret.of(Dh.generatePrivate(random)));
            final IndexTable<Session> indices = new IndexTable<>(random);
            final InetSocketAddress address;
            final ArrayDeque<byte[]> handshakes = new ArrayDeque<>();

            Node(int host) {
                try {
                    address = new InetSocketAddress(
                            InetAddress.getByAddress(new byte[] {(byte) 192, 0, 2, (byte) host}), 51820);
                } catch (UnknownHostException e) {
                    throw new IllegalStateException(e);
                }
            }

            @Override
            public StaticIdentity identity() {
                return identity;
            }

            @Override
            public SecureRandom random() {
                return random;
            }

            @Override
            public long epochNanos() {
                return System.currentTimeMillis() * 1_000_000L;
            }

            @Override
            public int mtu() {
                return MTU;
            }

            @Override
            public IndexTable<Session> indices() {
                return indices;
            }

            @Override
            public Packet packet(int size) {
                Packet p = pool.take();
                if (p != null) {
                    p.ensureCapacity(size);
                    p.outbound = true;
                }
                return p;
            }

            @Override
            public void seal(Packet p) {
                if (pipeline != null) {
                    pipeline.submit(p);
                    return;
                }
                Peer peer = p.peer;
                p.result = p.keypair.seal(p.buf, 0, p.length, MTU, p.counter);
                p.markDone();
                peer.outbound.drain(transmitInOrder);
            }

            @Override
            public void sendHandshake(byte[] message, InetSocketAddress to) {
                handshakes.add(message.clone());
            }

            @Override
            public boolean initiate(Peer peer) {
                return true;
            }

            @Override
            public void wakeAt(Peer peer, long deadline) {
            }

            @Override
            public void dropped(Packet p, Drop why) {
                World.this.dropped(p, why);
            }

            @Override
            public void recycle(Packet p) {
                World.this.dropped(p, Drop.WRONG_STATE);
            }

            /** The benchmark's sessions live as long as it runs. */
            @Override
            public void retire(Keypair kp) {}

            @Override
            public void count(Drop why) {
                lastDrop = why;
                dropped.incrementAndGet();
            }

            @Override
            public void log(String message) {
            }

            @Override
            public void handshakeCompleted(Peer peer, InetSocketAddress from, long rttNanos) {
            }

            @Override
            public void endpointMoved(InetSocketAddress from, InetSocketAddress to) {
            }

            @Override
            public void endpointRoamed(Peer peer, InetSocketAddress from, InetSocketAddress to) {
            }
        }
    }

    static void check(boolean ok, String what) {
        if (!ok) {
            throw new IllegalStateException("benchmark fixture broken: " + what + " failed");
        }
    }
}
