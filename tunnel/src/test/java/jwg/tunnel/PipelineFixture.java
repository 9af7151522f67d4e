package jwg.tunnel;

import static org.junit.jupiter.api.Assertions.assertEquals;
import static org.junit.jupiter.api.Assertions.assertNotNull;
import static org.junit.jupiter.api.Assertions.assertSame;
import static org.junit.jupiter.api.Assertions.assertTrue;
import static org.junit.jupiter.api.Assertions.fail;

import java.net.InetAddress;
import java.net.InetSocketAddress;
import java.net.UnknownHostException;
import java.security.SecureRandom;
import java.util.ArrayDeque;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Collections;
import java.util.IdentityHashMap;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Semaphore;
import java.util.concurrent.ThreadLocalRandom;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicBoolean;
import jwg.noise.Dh;
import jwg.noise.Drop;
import jwg.noise.Handshake;
import jwg.noise.IndexTable;
import jwg.noise.Keypair;
import jwg.noise.Message;
import jwg.noise.Protocol;
import jwg.noise.Secret;
import jwg.noise.StaticIdentity;

/**
 * Test fixture: one {@link Pipeline} and, around it, a sender device "a" with one {@link Peer} per receiver device
 * "b0".."bN", each of which has a single peer, a. Every pair has done a real handshake through the peers' own methods
 * (a initiates, so a sends at once; its keepalive went through the pipeline). The fixture is the pipeline's
 * {@link Pipeline.Sink}: it writes down, per peer and in the order the pipeline handed them out, what left the
 * pipeline, so a test can compare it with the order packets went in; and it notes as a surprise two workers handing
 * on one peer's packets at the same time, which the rule forbids even when the order comes out right.
 *
 * <p>Packets are IPv4 packets whose payload names their peer and a sequence number, and each packet handed in carries
 * a tag (its sequence number outbound, its place in the arrival order inbound), so what comes out can be named. To
 * make the workers finish packets out of order, the pipeline's MTU supplier, which a worker calls just before
 * sealing, sometimes spins a few microseconds; so does the sink, in the ordered half.
 */
final class PipelineFixture implements Pipeline.Sink, AutoCloseable {
    static final int MTU = Protocol.DEFAULT_MTU;
    /** Packets in flight at once, both directions: small, so the producer often waits for the pipeline. */
    static final int PACKETS = 256;
    /** An IPv4 header, then the peer's number and the packet's sequence number. */
    static final int MIN_SIZE = 28;
    static final int KEEPALIVE = -1;
    /** How long the pipeline may make no progress at all before a test gives up on it (a lost packet). */
    static final long STALL_NANOS = 5_000_000_000L;
    private static final int IP = Message.TRANSPORT_HEADER_LEN;

    private final PacketPool pool = new PacketPool(PACKETS);
    private final Pipeline pipeline;
    private final Node a;
    private final Node[] b;
    private final Peer[] toB;
    private final Peer[] toA;
    private final Map<Peer, Integer> number = new IdentityHashMap<>();
    /** Per peer and direction: whether a worker is handing on one of its packets right now. */
    private final Map<Peer, AtomicBoolean> handingOn = new IdentityHashMap<>();
    /** What each packet handed in stands for; read and removed by the sink. */
    private final Map<Packet, Integer> tags = new ConcurrentHashMap<>();
    /** Per peer of a: "packet 5: counter 6" for each transmit, in transmit order. */
    private final List<List<String>> transmitted = new ArrayList<>();
    /** Per peer of a: the datagrams transmitted, in transmit order. */
    private final List<List<byte[]>> datagrams = new ArrayList<>();
    /** Per peer of b: "#12 packet 0/5", "#13 REPLAYED_COUNTER"... for each packet out of the inbound half. */
    private final List<List<String>> received = new ArrayList<>();
    /** One permit per packet out of the pipeline, however it left. */
    private final Semaphore left = new Semaphore(0);
    /** Anything a peer or the pipeline did that none of these tests expects. */
    private final List<String> surprises = Collections.synchronizedList(new ArrayList<>());
    private final boolean jitter;
    /**
     * Whether the test's thread feeds as the device's TUN reader and UDP loop do: it seals or opens a share of the
     * packets itself and hands them on in batches ({@link Pipeline#runHere}); otherwise every packet is submitted.
     */
    private final boolean feeding;
    private final Pipeline.Worker tunFeeder;
    private final Pipeline.Worker udpFeeder;
    /** Whether the test's thread is in {@link #send}, where the device's TUN reader would be. */
    private boolean reading;
    private final Thread testThread = Thread.currentThread();
    /** The TUN reader's share of the batch in hand, sealed after the peer's lock, as Device.seal keeps it. */
    private final List<Packet> own = new ArrayList<>();

    /** workers crypto threads, peers receiver devices; jitter: spin now and then on the workers. */
    PipelineFixture(int workers, int peers, boolean jitter) {
        this(workers, peers, jitter, false);
    }

    /** As above; feeding: the calling thread feeds as the device does (see {@link #feeding}). */
    PipelineFixture(int workers, int peers, boolean jitter, boolean feeding) {
        this.jitter = jitter;
        this.feeding = feeding;
        this.pipeline = new Pipeline(workers, PACKETS, this, this::mtu, "test");
        this.tunFeeder = pipeline.feeder();
        this.udpFeeder = pipeline.feeder();
        this.a = new Node(address(1));
        this.b = new Node[peers];
        this.toB = new Peer[peers];
        this.toA = new Peer[peers];
        for (int i = 0; i < peers; i++) {
            b[i] = new Node(address(10 + i));
            toB[i] = new Peer(b[i].identity.publicKey(), a);
            toA[i] = new Peer(a.identity.publicKey(), b[i]);
            number.put(toB[i], i);
            number.put(toA[i], i);
            handingOn.put(toB[i], new AtomicBoolean());
            handingOn.put(toA[i], new AtomicBoolean());
            transmitted.add(Collections.synchronizedList(new ArrayList<>()));
            datagrams.add(Collections.synchronizedList(new ArrayList<>()));
            received.add(Collections.synchronizedList(new ArrayList<>()));
        }
        for (int i = 0; i < peers; i++) {
            connect(i);
        }
    }

    /** a initiates to b_i, b_i responds, a consumes the response and sends its keepalive through the pipeline. */
    private void connect(int i) {
        long now = System.nanoTime();
        toB[i].setEndpoint(b[i].address);
        toB[i].initiate(now);
        byte[] initiation = a.handshakes.poll();
        assertNotNull(initiation, "a's initiation to b" + i);
        Handshake responder = toA[i].handshake();
        assertSame(responder, Handshake.consumeInitiation(b[i].identity, initiation, 0,
                k -> k.equals(a.identity.publicKey()) ? responder : null, now).valueOrNull());
        toA[i].respond(a.address, initiation.length, now);
        byte[] response = b[i].handshakes.poll();
        assertNotNull(response, "b" + i + "'s response");
        toB[i].consumeResponse(response, b[i].address, now);
        awaitLeft(1);
        assertEquals(List.of("keepalive: counter 0"), transmitted(i), "a's first message to b" + i);
    }

    // ---- outbound: a's peers ----

    /** Hands a the IP packet number seq of size bytes for b_i, as the TUN reader does: peer.send. */
    void send(int i, int seq, int size) {
        send(i, new int[] {seq}, new int[] {size});
    }

    /** Hands a the IP packets numbered seqs, of these sizes, for b_i as one batch, as the TUN reader does a read's. */
    void send(int i, int[] seqs, int[] sizes) {
        Packet[] batch = new Packet[seqs.length];
        for (int k = 0; k < seqs.length; k++) {
            Packet p = take();
            p.outbound = true;
            p.ensureCapacity(sizes[k] + Packet.OVERHEAD);
            writeIpPacket(p.buf, IP, sizes[k], i, seqs[k]);
            p.length = sizes[k];
            tags.put(p, seqs[k]);
            batch[k] = p;
        }
        reading = true;
        toB[i].send(batch, batch.length, System.nanoTime());
        reading = false;
        for (Packet p : own) {
            pipeline.runHere(tunFeeder, p);
        }
        own.clear();
        pipeline.handOn(tunFeeder);
    }

    /** The feeding thread ran out of input (a TUN read or a UDP read came back empty): it pushes out what it holds. */
    void idle() {
        pipeline.flush(tunFeeder);
        pipeline.flush(udpFeeder);
    }

    /** What a transmitted to b_i, in transmit order: "keepalive: counter 0", "packet 0: counter 1"... */
    List<String> transmitted(int i) {
        return List.copyOf(transmitted.get(i));
    }

    /** The datagrams a transmitted to b_i, in transmit order. */
    List<byte[]> datagrams(int i) {
        return List.copyOf(datagrams.get(i));
    }

    /** The IP packet number seq of size bytes for b_i sealed by a with its next counter, on this thread. */
    byte[] sealNow(int i, int seq, int size) {
        Keypair kp = toB[i].currentKeypair();
        byte[] buf = new byte[size + Packet.OVERHEAD];
        writeIpPacket(buf, IP, size, i, seq);
        int n = kp.seal(buf, 0, size, MTU);
        assertTrue(n > 0, "seal: " + Drop.ofCode(n));
        return Arrays.copyOf(buf, n);
    }

    // ---- inbound: b's peers ----

    /** A datagram from a arrives at b_i, tagged: b_i's UDP loop, as Device.receiveTransport. */
    void receive(int i, byte[] datagram, int tag) {
        Node node = b[i];
        Packet p = take();
        p.outbound = false;
        p.ensureCapacity(datagram.length);
        System.arraycopy(datagram, 0, p.buf, 0, datagram.length);
        p.length = datagram.length;
        assertEquals(Message.TRANSPORT, Message.classify(p.buf, 0, p.length));
        Session s = node.indices.get(Message.getInt(p.buf, Message.TRANSPORT_RECEIVER));
        assertNotNull(s, "b" + i + " knows the receiver index");
        p.peer = s.peer();
        p.keypair = s.keypair();
        p.counter = Message.getLong(p.buf, Message.TRANSPORT_COUNTER);
        p.address = a.address;
        tags.put(p, tag);
        assertTrue(p.peer.inbound.add(p), "room in b" + i + "'s inbound queue");
        if (feeding && pipeline.feederTurn(udpFeeder)) {
            pipeline.runHere(udpFeeder, p);
        } else {
            pipeline.submit(p);
        }
    }

    /** What left b_i's inbound half, in order: "#3 packet 0/2", "#4 keepalive", "#7 REPLAYED_COUNTER"... */
    List<String> received(int i) {
        return List.copyOf(received.get(i));
    }

    // ---- both ----

    /**
     * Waits for n more packets to leave the pipeline, however they left; fails once none has for a while. The feeding
     * thread has run out of input by then ({@link #idle}).
     */
    void awaitLeft(int n) {
        idle();
        long lastProgress = System.nanoTime();
        try {
            while (n > 0) {
                if (left.tryAcquire(10, TimeUnit.MILLISECONDS)) {
                    n--;
                    lastProgress = System.nanoTime();
                } else if (System.nanoTime() - lastProgress > STALL_NANOS) {
                    fail(n + " packets never left the pipeline; surprises: " + surprises);
                }
            }
        } catch (InterruptedException e) {
            Thread.currentThread().interrupt();
            fail(e);
        }
    }

    List<String> surprises() {
        return List.copyOf(surprises);
    }

    /**
     * A packet from the pool, waiting for the pipeline to give one back if all are in flight. A feeding thread that
     * waits has run out of input meanwhile (the device's UDP loop would drop instead, and its TUN reader holds nothing
     * back across reads).
     */
    private Packet take() {
        long since = System.nanoTime();
        for (Packet p; ; Thread.yield()) {
            if ((p = pool.take()) != null) {
                return p;
            }
            idle();
            if (System.nanoTime() - since > STALL_NANOS) {
                fail("no packet came back from the pipeline for " + STALL_NANOS / 1_000_000
                        + " ms (lost, or a worker died); surprises: " + surprises);
            }
        }
    }

    /** An IPv4 packet of size bytes at buf[off...] whose payload is peer and seq, then filler. */
    static void writeIpPacket(byte[] buf, int off, int size, int peer, int seq) {
        Arrays.fill(buf, off, off + size, (byte) seq);
        buf[off] = 0x45;
        buf[off + 1] = 0;
        buf[off + 2] = (byte) (size >>> 8);
        buf[off + 3] = (byte) size;
        Message.putInt(buf, off + 20, peer);
        Message.putInt(buf, off + 24, seq);
    }

    /** "packet peer/seq" for the IP packet at buf[off...] (written by writeIpPacket). */
    static String describe(byte[] buf, int off) {
        return "packet " + Message.getInt(buf, off + 20) + "/" + Message.getInt(buf, off + 24);
    }

    // ---- the sink, on worker threads ----

    /** The MTU, asked for by a worker just before it seals: a chance to make it late. */
    private int mtu() {
        if (jitter) {
            maybeSpin(8, 40_000);
        }
        return MTU;
    }

    private void maybeSpin(int oneIn, long maxNanos) {
        ThreadLocalRandom r = ThreadLocalRandom.current();
        if (r.nextInt(oneIn) == 0) {
            long end = System.nanoTime() + r.nextLong(maxNanos);
            while (System.nanoTime() - end < 0) {
                Thread.onSpinWait();
            }
        }
    }

    private int tag(Packet p) {
        Integer tag = tags.remove(p);
        return tag == null ? KEEPALIVE : tag;
    }

    /**
     * A worker starts handing on one of peer's packets: there must be no other at the same time (one drainer per
     * queue). The jitter here holds the drainer a while, so completions pile up behind it and race its exit.
     */
    private void enter(Peer peer) {
        if (!handingOn.get(peer).compareAndSet(false, true)) {
            surprises.add("two workers handed on packets of " + peer + " at once");
        }
        if (jitter) {
            maybeSpin(4, 10_000);
        }
    }

    private void leave(Packet p) {
        leaveHeld(p);
        left.release();
    }

    /** As leave, but the packet counts as out only once its record is passed on (see {@link #transmit}). */
    private void leaveHeld(Packet p) {
        handingOn.get(p.peer).set(false);
        pool.give(p);
    }

    @Override
    public void transmit(Packet p) {
        enter(p.peer);
        int tag = tag(p);
        long counter = Message.getLong(p.buf, Message.TRANSPORT_COUNTER);
        StringBuilder s = new StringBuilder(tag == KEEPALIVE ? "keepalive" : "packet " + tag)
                .append(": counter ").append(counter);
        if (counter != p.counter) {
            s.append(" (but p.counter ").append(p.counter).append(')');
        }
        if (p.result != Keypair.sealedLength(p.length, MTU)) {
            s.append(" (but ").append(p.result).append(" bytes)");
        }
        int i = number.get(p.peer);
        String line = s.toString();
        byte[] datagram = Arrays.copyOf(p.buf, Math.max(0, p.result));
        // Held back like the device's send batch: it reaches the record (the wire) at the thread's next hand-off or
        // flush, so a drainer that passed on too late would show as packets out of order.
        held.get().add(() -> {
            transmitted.get(i).add(line);
            datagrams.get(i).add(datagram);
            left.release();
        });
        leaveHeld(p);
    }

    /** Each thread's transmits and deliveries not yet handed on (see {@link #transmit}). */
    private final ThreadLocal<List<Runnable>> held = ThreadLocal.withInitial(ArrayList::new);

    private void passOn() {
        List<Runnable> mine = held.get();
        for (Runnable r : mine) {
            r.run();
        }
        mine.clear();
    }

    @Override
    public void flush() {
        passOn();
    }

    @Override
    public void handOff() {
        passOn();
    }

    @Override
    public void deliver(Packet p, int n) {
        enter(p.peer);
        String what = n < MIN_SIZE ? "a " + n + "-byte packet" : describe(p.buf, IP);
        String line = "#" + tag(p) + " " + what;
        int i = number.get(p.peer);
        held.get().add(() -> {
            received.get(i).add(line);
            left.release();
        });
        leaveHeld(p);
    }

    @Override
    public void dropped(Packet p, Drop why) {
        passOn();   // what this thread holds came first
        enter(p.peer);
        int tag = tag(p);
        if (p.outbound) {
            transmitted.get(number.get(p.peer)).add((tag == KEEPALIVE ? "keepalive" : "packet " + tag) + " " + why);
        } else {
            received.get(number.get(p.peer)).add("#" + tag + " " + why);
        }
        leave(p);
    }

    @Override
    public void recycle(Packet p) {
        passOn();
        enter(p.peer);
        received.get(number.get(p.peer)).add("#" + tag(p) + " keepalive");
        leave(p);
    }

    @Override
    public long now() {
        return System.nanoTime();
    }

    @Override
    public void failed(Throwable e) {
        surprises.add("the pipeline's hand-on threw " + e);
    }

    @Override
    public void close() {
        pipeline.close();
    }

    private static InetSocketAddress address(int host) {
        try {
            return new InetSocketAddress(InetAddress.getByAddress(new byte[] {(byte) 192, 0, 2, (byte) host}), 51820);
        } catch (UnknownHostException e) {
            throw new AssertionError(e);
        }
    }

    /** A device around the peers, as far as they can tell: its identity and indices, the shared pool and pipeline. */
    private final class Node implements Driver {
        final StaticIdentity identity;
        final InetSocketAddress address;
        final SecureRandom random = new SecureRandom();
        final IndexTable<Session> indices = new IndexTable<>(random);
        /** Handshake messages sent, oldest first. */
        final ArrayDeque<byte[]> handshakes = new ArrayDeque<>();

        Node(InetSocketAddress address) {
            this.identity = new StaticIdentity(Secret.of(Dh.generatePrivate(random)));
            this.address = address;
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
            if (feeding && reading && Thread.currentThread() == testThread && pipeline.feederTurn(tunFeeder)) {
                own.add(p);
            } else {
                pipeline.submit(p);
            }
        }

        @Override
        public void sendHandshake(byte[] message, InetSocketAddress to) {
            handshakes.add(message.clone());
        }

        @Override
        public boolean initiate(Peer peer) {
            surprises.add(peer + " asked for a handshake");
            return true;
        }

        @Override
        public void wakeAt(Peer peer, long deadline) {
        }

        @Override
        public void dropped(Packet p, Drop why) {
            surprises.add(p.peer + " dropped a packet: " + why);
            tags.remove(p);
            pool.give(p);
            left.release();
        }

        /** Never erased here: the fixture's workers may still hold a packet on it, which is what the grace is for. */
        @Override
        public void retire(Keypair kp) {}

        @Override
        public void recycle(Packet p) {
            surprises.add("a peer recycled a packet (staged?)");
            tags.remove(p);
            pool.give(p);
            left.release();
        }

        @Override
        public void count(Drop why) {
            surprises.add("a peer counted " + why);
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
