package jwg.tunnel;

import java.lang.reflect.Field;
import java.net.InetSocketAddress;
import java.security.NoSuchAlgorithmException;
import java.security.SecureRandom;
import java.time.Duration;
import java.util.ArrayList;
import java.util.Arrays;
import java.util.Comparator;
import java.util.EnumSet;
import java.util.HashMap;
import java.util.HashSet;
import java.util.List;
import java.util.Map;
import java.util.PriorityQueue;
import java.util.Set;
import java.util.concurrent.atomic.AtomicLong;
import jwg.noise.CookieChecker;
import jwg.noise.Drop;
import jwg.noise.Handshake;
import jwg.noise.IndexTable;
import jwg.noise.Key;
import jwg.noise.Keypair;
import jwg.noise.Message;
import jwg.noise.Protocol;
import jwg.noise.Result;
import jwg.noise.Secret;
import jwg.noise.StaticIdentity;

/**
 * Two {@link Peer} state machines, a and b, wired back to back through a simulated network with a fake clock: each
 * side is the {@link Driver} of its peer, doing synchronously and deterministically what the device does with threads,
 * sockets and a TUN device. Time moves only when a test says so ({@link #advance}); timers fire exactly at the
 * deadlines the peers ask for, and messages arrive {@link #latency} after they were sent, unless that direction of the
 * wire loses them. Everything that happens is recorded with its time, so a test states a rule as an assertion about
 * what crossed the wire and what each side's TUN device received.
 *
 * <p>A peer calls its driver with its lock held, and a driver must not call back into it (see {@link Driver}). So a
 * driver call only records and schedules: initiations, deliveries and wake-ups are events run by the loop in
 * {@link #advance} after the call has returned, which is also what the device's threads amount to. Sealing is the one
 * thing done at once, because it is pure: the packet is sealed, marked done and the peer's outbound queue drained in
 * order, as a pipeline worker would.
 *
 * <p>Two rules hold for every test and are checked as messages leave: a keypair's counters go out in increasing order,
 * and a responder sends nothing on a keypair before a message from the initiator arrived on it (§5.4.5).
 */
final class TwoPeers {
    /** What crossed the wire. */
    enum Kind { INITIATION, RESPONSE, DATA, KEEPALIVE }

    /** A datagram one side sent, at elapsed time {@code at}; keypair and counter only for DATA and KEEPALIVE. */
    record Datagram(Kind kind, long at, byte[] bytes, Keypair keypair, long counter) {}

    /** An IP packet a side's TUN device received: its sequence number, and when. */
    record Delivery(int seq, long at) {}

    /** Something a side counted under a {@link Drop} reason, and when. */
    record Dropped(Drop why, long at) {}

    static final int MTU = Protocol.DEFAULT_MTU;
    /** Inner packets: an IPv4 header, the sequence number, a little filler. */
    static final int INNER_LENGTH = 32;

    /**
     * System.nanoTime() may return any long, and wraps: the clock starts 200 s short of Long.MAX_VALUE, so every test
     * that runs longer than that crosses the wrap, and a comparison written as {@code a < b} instead of
     * {@code a - b < 0} shows up as a failure.
     */
    static final long CLOCK_START = Long.MAX_VALUE - 200_000_000_000L;
    /** 2025-01-01T00:00:00Z: what the wall clock reads when the test starts. */
    private static final long EPOCH_START = 1_735_689_600_000_000_000L;

    final Side a;
    final Side b;

    /** Nanoseconds since the start of the test; the peers see CLOCK_START + elapsed. */
    private long elapsed;
    private long latency;
    private long order;
    private final PriorityQueue<Event> events = new PriorityQueue<>(
            Comparator.comparingLong(Event::at).thenComparingLong(Event::order));

    private record Event(long at, long order, Runnable action) {}

    /** Two peers that know each other's public key and endpoint, with no session yet. */
    TwoPeers() {
        a = new Side("a", new InetSocketAddress("192.0.2.1", 51820), 1);
        b = new Side("b", new InetSocketAddress("198.51.100.2", 51820), 2);
        a.connect(b);
        b.connect(a);
    }

    /** Monotonic time as the peers see it. */
    long now() {
        return CLOCK_START + elapsed;
    }

    /** Nanoseconds since the test started. */
    long elapsed() {
        return elapsed;
    }

    /** Every message from now on takes d to cross the wire, either way. */
    void latency(Duration d) {
        latency = d.toNanos();
    }

    /** Moves the clock forward by d, firing every timer and delivering every message that falls due on the way. */
    void advance(Duration d) {
        runUntil(elapsed + d.toNanos());
    }

    /** Moves the clock to elapsed time t since the start of the test. */
    void advanceTo(Duration t) {
        if (t.toNanos() < elapsed) {
            throw new IllegalArgumentException("the clock does not go back");
        }
        runUntil(t.toNanos());
    }

    /** Runs everything due now (what a test's input set off, when the latency is zero). */
    void settle() {
        runUntil(elapsed);
    }

    private void schedule(long at, Runnable action) {
        events.add(new Event(at, order++, action));
    }

    /**
     * The event loop: the earliest of the pending events and the two sides' wake-ups, one at a time, until nothing is
     * left at or before until. At equal times events (messages, initiations) go before timers, in the order they were
     * scheduled.
     */
    private void runUntil(long until) {
        for (int steps = 0; ; steps++) {
            if (steps == 1_000_000) {
                throw new AssertionError("the two peers never go quiet: a message or timer loop");
            }
            Event e = events.peek();
            Side s = a.wake <= b.wake ? a : b;
            long next = Math.min(e == null ? Long.MAX_VALUE : e.at, s.wake);
            if (next > until) {
                break;
            }
            elapsed = Math.max(elapsed, next);
            if (e != null && e.at <= s.wake) {
                events.poll();
                e.action.run();
            } else {
                s.wake = Long.MAX_VALUE;
                s.peer().tick(now());
            }
        }
        elapsed = until;
    }

    /**
     * Pretends kp has already sealed {@code sent} messages. Nothing outside noise may move a keypair's counter (and
     * rightly: it is the nonce), but REKEY_AFTER_MESSAGES and REJECT_AFTER_MESSAGES cannot be reached by sending, so
     * the test reaches into the private AtomicLong. Forward only, as real sending would.
     */
    static void spendCounters(Keypair kp, long sent) {
        try {
            Field f = Keypair.class.getDeclaredField("sendCounter");
            f.setAccessible(true);
            AtomicLong counter = (AtomicLong) f.get(kp);
            if (Long.compareUnsigned(sent, counter.get()) < 0) {
                throw new IllegalArgumentException("a counter only goes forward");
            }
            counter.set(sent);
        } catch (ReflectiveOperationException e) {
            throw new AssertionError("Keypair's send counter moved: update TwoPeers.spendCounters", e);
        }
    }

    static Duration seconds(double s) {
        return Duration.ofNanos(Math.round(s * 1e9));
    }

    static Duration millis(long ms) {
        return Duration.ofMillis(ms);
    }

    /** One end: a peer, its driver, its index table, its TUN device, and its half of the wire. */
    final class Side implements Driver {
        final String name;
        final InetSocketAddress address;
        private final SecureRandom random;
        private final StaticIdentity identity;
        private final CookieChecker checker;
        private final IndexTable<Session> indices;
        private final List<Datagram> sent = new ArrayList<>();
        private final List<Delivery> delivered = new ArrayList<>();
        private final List<Dropped> dropped = new ArrayList<>();
        private final List<Long> keepalivesReceived = new ArrayList<>();
        private final List<String> log = new ArrayList<>();
        private final List<String> events = new ArrayList<>();
        private final Set<Kind> lost = EnumSet.noneOf(Kind.class);
        private final List<String> roams = new ArrayList<>();
        private boolean movesExpected;
        /** Other addresses this side is reachable at (a second site's), for the other's handshakes. */
        private final Set<InetSocketAddress> alsoAt = new HashSet<>();
        /** The endpoints the peer told this side of and has not taken back: the device's set of endpoints. */
        private final List<InetSocketAddress> endpoints = new ArrayList<>();
        /** Keypairs a transport message arrived on: a responder's are confirmed (§5.4.5). */
        private final Set<Keypair> heardOn = new HashSet<>();
        private final Map<Keypair, Long> lastCounter = new HashMap<>();
        /** False: the device's packet pool is empty (its pipeline is behind), so {@link #packet()} has none. */
        private boolean buffers = true;
        /** Elapsed time of the earliest wake-up asked for; MAX_VALUE: none. */
        private long wake = Long.MAX_VALUE;
        private Side other;
        private Peer peer;

        private Side(String name, InetSocketAddress address, long seed) {
            this.name = name;
            this.address = address;
            this.random = seeded(seed);
            byte[] privateKey = new byte[Key.LEN];
            random.nextBytes(privateKey);
            this.identity = new StaticIdentity(Secret.of(privateKey));
            this.checker = new CookieChecker(identity, random);
            this.indices = new IndexTable<>(random);
        }

        /** The peer needs the other side's public key, so it is made once both identities exist. */
        private void connect(Side other) {
            this.other = other;
            peer = new Peer(other.identity.publicKey(), this);
            peer.setEndpoint(other.address);
        }

        // ---- what a test does ----

        /**
         * IP packets with these sequence numbers arrive from this side's TUN device for the other side as one batch
         * (one read's segments, as the device hands them to the peer), then everything due now runs.
         */
        void send(int... seqs) {
            Packet[] burst = new Packet[seqs.length];
            for (int i = 0; i < seqs.length; i++) {
                Packet p = new Packet();
                p.outbound = true;
                p.length = writeInner(p.buf, Message.TRANSPORT_HEADER_LEN, seqs[i]);
                burst[i] = p;
            }
            peer().send(burst, burst.length, now());
            settle();
        }

        /** A datagram arrives again, now, from where it came from the first time (a replay, or a late copy). */
        void inject(Datagram d) {
            inject(d, other.address);
        }

        /** A datagram arrives again, now, from another address (the other side's old one, after it moved). */
        void inject(Datagram d, InetSocketAddress from) {
            receive(d.bytes.clone(), from);
            settle();
        }

        /**
         * Initiation d arrives from the other side, and this side's own initiation goes out after d was consumed and
         * before it is answered: the device consumes an initiation on a handshake worker before taking the peer's
         * lock to answer it, and an initiation of the peer's own (a timer, a packet to send) can take the lock first.
         */
        void injectInitiationOvertakenByOwn(Datagram d) {
            Peer p = peer();
            Result<Handshake> r = Handshake.consumeInitiation(identity, d.bytes.clone(), 0,
                    key -> key.equals(p.publicKey) ? p.handshake() : null, now());
            if (r instanceof Result.Dropped<Handshake> dropped) {
                throw new AssertionError(name + " refused the initiation: " + dropped.reason());
            }
            p.initiate(now());
            p.respond(other.address, d.bytes.length, now());
            settle();
        }

        /**
         * This side's peer state starts again from nothing (no session, no replay state), as a responder's does
         * towards an initiation whose second copy its racing handshake workers also answered: it holds only the
         * session of its later answer.
         */
        void forgetPeerState() {
            peer.remove();
            peer = new Peer(other.identity.publicKey(), this);
            peer.setEndpoint(other.address);
        }

        /** From now on the wire loses what this side sends (all of it, or the kinds given). */
        void loseOutgoing(Kind... kinds) {
            lost.clear();
            lost.addAll(kinds.length == 0 ? EnumSet.allOf(Kind.class) : List.of(kinds));
        }

        /** From now on the wire delivers everything this side sends. */
        void deliverOutgoing() {
            lost.clear();
        }

        /** This side is reachable at another address too: handshake messages sent there reach it. */
        void alsoAt(InetSocketAddress address) {
            alsoAt.add(address);
        }

        /** The other side moves in this test: its roams are recorded ({@link #roams}) instead of failing it. */
        void expectMoves() {
            movesExpected = true;
        }

        /** The other side's moves this side noticed, "from -> to". */
        List<String> roams() {
            return List.copyOf(roams);
        }

        /** The peer's endpoint as the device's set of endpoints has it: one address, none once the peer is gone. */
        List<InetSocketAddress> endpoints() {
            return List.copyOf(endpoints);
        }

        /** Whether the peer can have a packet buffer for a keepalive or a staged packet. */
        void buffersAvailable(boolean available) {
            buffers = available;
        }

        /** This side's peer: its view of the other side. */
        Peer peer() {
            return peer;
        }

        /** The datagrams of that kind this side sent, lost or not. */
        List<Datagram> sent(Kind kind) {
            return sent.stream().filter(d -> d.kind == kind).toList();
        }

        /** When this side sent each message of that kind, in elapsed nanoseconds. */
        List<Long> times(Kind kind) {
            return sent(kind).stream().map(Datagram::at).toList();
        }

        /** The IP packets this side's TUN device received, with when. */
        List<Delivery> deliveries() {
            return List.copyOf(delivered);
        }

        /** The sequence numbers of the IP packets this side's TUN device received, in order. */
        List<Integer> delivered() {
            return delivered.stream().map(Delivery::seq).toList();
        }

        List<Long> keepalivesReceived() {
            return List.copyOf(keepalivesReceived);
        }

        /** Everything this side counted under a Drop reason. */
        List<Dropped> drops() {
            return List.copyOf(dropped);
        }

        int dropped(Drop why) {
            return (int) dropped.stream().filter(d -> d.why == why).count();
        }

        List<Long> droppedAt(Drop why) {
            return dropped.stream().filter(d -> d.why == why).map(Dropped::at).toList();
        }

        /** What the peer logged, each line with its time: for reading when a scenario does not go as expected. */
        List<String> log() {
            return List.copyOf(log);
        }

        // ---- the network: what arrives at this side ----

        private void put(Kind kind, byte[] bytes, Keypair kp, long counter) {
            sent.add(new Datagram(kind, elapsed, bytes, kp, counter));
            if (!lost.contains(kind)) {
                Side to = other;
                InetSocketAddress from = address;
                schedule(elapsed + latency, () -> to.receive(bytes, from));
            }
        }

        private void receive(byte[] msg, InetSocketAddress from) {
            switch (Message.classify(msg, 0, msg.length)) {
                case Message.INITIATION -> receiveInitiation(msg, from);
                case Message.RESPONSE -> receiveResponse(msg, from);
                case Message.TRANSPORT -> receiveTransport(msg, from);
                default -> count(Drop.MALFORMED);
            }
        }

        /** As the device's handshake worker does: mac1 first, then the DH work, then the answer. */
        private void receiveInitiation(byte[] msg, InetSocketAddress from) {
            if (!checker.checkMac1(msg, 0, msg.length)) {
                count(Drop.BAD_MAC1);
                return;
            }
            Peer p = peer();
            Result<Handshake> r = Handshake.consumeInitiation(identity, msg, 0,
                    key -> key.equals(p.publicKey) ? p.handshake() : null, now());
            if (r instanceof Result.Dropped<Handshake> d) {
                count(d.reason());
                return;
            }
            p.respond(from, msg.length, now());
        }

        private void receiveResponse(byte[] msg, InetSocketAddress from) {
            if (!checker.checkMac1(msg, 0, msg.length)) {
                count(Drop.BAD_MAC1);
                return;
            }
            Session s = indices.get(Message.getInt(msg, Message.RESPONSE_RECEIVER));
            if (!Handshakes.mayAnswer(s)) {
                count(Drop.UNKNOWN_INDEX);
                return;
            }
            s.peer().consumeResponse(msg, from, now());
        }

        /** As the UDP loop and a pipeline worker do: find the keypair, queue in arrival order, open, hand over. */
        private void receiveTransport(byte[] msg, InetSocketAddress from) {
            Session s = indices.get(Message.getInt(msg, Message.TRANSPORT_RECEIVER));
            if (s == null || s.keypair() == null) {
                count(Drop.UNKNOWN_INDEX);
                return;
            }
            Packet p = new Packet();
            p.outbound = false;
            p.ensureCapacity(msg.length);
            System.arraycopy(msg, 0, p.buf, 0, msg.length);
            p.length = msg.length;
            p.peer = s.peer();
            p.keypair = s.keypair();
            p.counter = Message.getLong(msg, Message.TRANSPORT_COUNTER);
            p.address = from;
            if (!p.peer.inbound.add(p)) {
                dropped(p, Drop.PEER_QUEUE_FULL);
                return;
            }
            p.result = p.keypair.decrypt(p.buf, 0, p.length);
            p.markDone();
            p.peer.inbound.drain(this::deliverInOrder);
        }

        /** One packet at a time for Peer.receive, which takes a drain turn's batch. */
        private final Packet[] one = new Packet[1];

        private void deliverInOrder(Packet p) {
            // It opened, so the initiator holds this keypair: the responder may send on it from here on, which it
            // does inside receive() when it had packets staged.
            if (p.result >= 0) {
                heardOn.add(p.keypair);
            }
            one[0] = p;
            p.peer.receive(one, 1, now());
            one[0] = null;
            int n = p.result;
            if (n > 0) {
                delivered.add(new Delivery(readSeq(p.buf, Message.TRANSPORT_HEADER_LEN), elapsed));
            } else if (n == 0) {
                keepalivesReceived.add(elapsed);
            } else {
                count(Drop.ofCode(n));
            }
        }

        /** A sealed packet leaving in queue order: the rules every test relies on are checked here. */
        private void transmitInOrder(Packet p) {
            if (p.result < 0) {
                dropped(p, Drop.ofCode(p.result));
                return;
            }
            if (p.peer.isRemoved()) {
                dropped(p, Drop.PEER_GONE);
                return;
            }
            Keypair kp = p.keypair;
            if (!kp.isInitiator() && !heardOn.contains(kp)) {
                throw new AssertionError(name + " sent on a responder keypair before key confirmation");
            }
            Long last = lastCounter.put(kp, p.counter);
            if (last != null && Long.compareUnsigned(p.counter, last) <= 0) {
                throw new AssertionError(name + " sent counter " + p.counter + " after " + last);
            }
            put(p.length == 0 ? Kind.KEEPALIVE : Kind.DATA, Arrays.copyOf(p.buf, p.result), kp, p.counter);
        }

        // ---- Driver ----

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
            return EPOCH_START + elapsed;
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
            if (!buffers) {
                return null;
            }
            Packet p = new Packet();
            p.ensureCapacity(size);
            p.outbound = true;
            return p;
        }

        @Override
        public void seal(Packet p) {
            p.result = p.keypair.seal(p.buf, 0, p.length, MTU, p.counter);
            p.markDone();
            p.peer.outbound.drain(this::transmitInOrder);
        }

        @Override
        public void sendHandshake(byte[] message, InetSocketAddress to) {
            if (!to.equals(other.address) && !other.alsoAt.contains(to)) {
                throw new AssertionError(name + " sent a handshake message to " + to);
            }
            put(message[0] == Message.INITIATION ? Kind.INITIATION : Kind.RESPONSE, message.clone(), null, -1);
        }

        @Override
        public boolean initiate(Peer p) {
            schedule(elapsed, () -> p.initiate(now()));
            return true;
        }

        @Override
        public void wakeAt(Peer p, long deadline) {
            if (p != peer()) {
                throw new AssertionError("a wake-up for someone else's peer");
            }
            long at = deadline - CLOCK_START;
            if (at < elapsed) {
                throw new AssertionError(name + " asked to be woken in the past");
            }
            wake = Math.min(wake, at);
        }

        @Override
        public void dropped(Packet p, Drop why) {
            count(why);
        }

        @Override
        public void recycle(Packet p) {}

        /** At once, not after a grace: the simulated pipeline holds no packet between events, and a late use fails. */
        @Override
        public void retire(Keypair kp) {
            kp.destroy();
        }

        @Override
        public void count(Drop why) {
            dropped.add(new Dropped(why, elapsed));
        }

        @Override
        public void log(String message) {
            log.add(String.format("%.3f %s", elapsed / 1e9, message));
        }

        @Override
        public void handshakeCompleted(Peer p, InetSocketAddress from, long rttNanos) {}

        @Override
        public void peerEvent(Peer p, Hooks.Event event, InetSocketAddress endpoint, InetSocketAddress before,
                              String reason) {
            events.add(event + " " + before + " -> " + endpoint + " (" + reason + ")");
        }

        /** The hook's events, in order: "EVENT before -> endpoint (reason)". */
        List<String> events() {
            return events;
        }

        @Override
        public void endpointMoved(InetSocketAddress from, InetSocketAddress to) {
            if (from != null && !endpoints.remove(from)) {
                throw new AssertionError(name + " was told " + from + " moved, which it never had");
            }
            if (to != null) {
                endpoints.add(to);
            }
        }

        @Override
        public void endpointRoamed(Peer p, InetSocketAddress from, InetSocketAddress to) {
            if (!movesExpected) {
                throw new AssertionError("nobody moved, yet " + name + " saw " + from + " roam to " + to);
            }
            roams.add(from + " -> " + to);
        }

        @Override
        public String toString() {
            return name;
        }
    }

    /** A minimal IPv4 packet (version 4, total length set, which is all Peer.receive reads) carrying seq. */
    static int writeInner(byte[] buf, int off, int seq) {
        Arrays.fill(buf, off, off + INNER_LENGTH, (byte) 0);
        buf[off] = 0x45;
        buf[off + 2] = (byte) (INNER_LENGTH >>> 8);
        buf[off + 3] = (byte) INNER_LENGTH;
        buf[off + 8] = 64;
        buf[off + 9] = 17;
        buf[off + 20] = (byte) (seq >>> 24);
        buf[off + 21] = (byte) (seq >>> 16);
        buf[off + 22] = (byte) (seq >>> 8);
        buf[off + 23] = (byte) seq;
        return INNER_LENGTH;
    }

    static int readSeq(byte[] buf, int off) {
        return (buf[off + 20] & 0xff) << 24 | (buf[off + 21] & 0xff) << 16 | (buf[off + 22] & 0xff) << 8
                | (buf[off + 23] & 0xff);
    }

    /** Deterministic: SHA1PRNG seeded before its first use produces the same bytes on every run. */
    private static SecureRandom seeded(long seed) {
        try {
            SecureRandom r = SecureRandom.getInstance("SHA1PRNG");
            r.setSeed(seed);
            return r;
        } catch (NoSuchAlgorithmException e) {
            throw new AssertionError(e);
        }
    }
}
