package jwg.tunnel;

import io.netty.buffer.ByteBuf;
import io.netty.util.internal.PlatformDependent;
import java.io.IOException;
import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.time.Instant;
import java.util.Arrays;
import java.util.Collection;
import java.util.List;
import java.util.Map;
import java.util.Set;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ScheduledThreadPoolExecutor;
import java.util.concurrent.ThreadFactory;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.locks.LockSupport;
import java.util.stream.Collectors;
import jwg.noise.CookieChecker;
import jwg.noise.Drop;
import jwg.noise.IndexTable;
import jwg.noise.Key;
import jwg.noise.Keypair;
import jwg.noise.Message;
import jwg.noise.Protocol;
import jwg.noise.Secret;
import jwg.noise.StaticIdentity;
import jwg.roaming.Tunnel;
import jwg.tun.Coalescer;
import jwg.tun.Segmenter;
import jwg.tun.Tun;

/**
 * The WireGuard interface: its configuration (identity, port, peers, allowed IPs) and the threads that drive its
 * peers. Each {@link Peer} is a state machine without I/O; the device feeds it and carries out what it asks:
 * <ul>
 * <li>the TUN reader thread reads IP packets and routes each to a peer by destination ({@link #runTunReader});</li>
 * <li>the UDP event loop takes datagrams in, transport messages to the {@link Pipeline}, handshake messages to the
 *     {@link Handshakes} workers ({@link #receive});</li>
 * <li>the pipeline seals and opens on these two threads and on workers for the remaining cores, and sends and
 *     delivers in order ({@link Pipeline});</li>
 * <li>one timer thread wakes each peer at its next deadline;</li>
 * <li>the UAPI thread configures it ({@link Uapi}), holding this object's lock for a whole set.</li>
 * </ul>
 * No lock is taken by all packets: allowed IPs, the index table and the peer map are read lock-free, and each peer
 * has its own lock.
 */
final class Device implements Driver, Pipeline.Sink, AutoCloseable {
    /** Packets in flight per direction: enough to keep every core busy, bounded so overload drops, never hoards. */
    static final int PACKETS_PER_DIRECTION = 8192;
    private static final int MAX_PACKET = 65535;
    /** How far the TUN reader may fill one peer's outbound queue; the rest is for keepalives and staged packets. */
    static final int TUN_READER_IN_FLIGHT = Peer.IN_FLIGHT - Peer.MAX_STAGED - 64;
    private static final long BACKPRESSURE_STEP_NANOS = 20_000;
    private static final long BACKPRESSURE_NANOS = 100_000_000;

    private final String name;
    private final Log log;
    private final Tun tun;
    private final Runnable onClose;
    private final SecureRandom random = LazyRandom.create();
    private final IndexTable<Session> indices = new IndexTable<>(random);
    private final Map<Key, Peer> peers = new ConcurrentHashMap<>();
    private final AllowedIps<Peer> allowedIps = new AllowedIps<>();
    private final Drops drops = new Drops();
    private final PacketPool outboundPackets = new PacketPool(PACKETS_PER_DIRECTION);
    private final PacketPool inboundPackets = new PacketPool(PACKETS_PER_DIRECTION);
    private final ScheduledExecutorService timers;
    /** Keypairs waiting out their grace before {@link #retire} erases them; close erases them at once. */
    private final Set<Keypair> retiring = ConcurrentHashMap.newKeySet();
    /** Every peer's current endpoint, with how many peers have it (see {@link #endpointMoved}). */
    private final Map<InetSocketAddress, Integer> endpoints = new ConcurrentHashMap<>();
    /** How long a keypair that left its peer keeps its keys: see {@link #retire}. */
    private static final long RETIRE_GRACE_NANOS = TimeUnit.SECONDS.toNanos(2);
    private final Handshakes handshakes;
    /**
     * Computes each new peer's DH(S_priv_i, S_pub_r) after the UAPI set that made it has returned, so neither the set
     * (10,000 peers: 1.0 s, three quarters of it these) nor, usually, the peer's first handshake waits for it. One
     * thread, only while there is work.
     */
    private final ThreadPoolExecutor precompute = new ThreadPoolExecutor(1, 1, 1, TimeUnit.SECONDS,
            new LinkedBlockingQueue<>(), daemonThreads("jwg-precompute"));
    private final Pipeline pipeline;
    private final Udp udp;
    /** The TUN reader's and the UDP event loop's shares of the crypto (see {@link Pipeline#feeder}). */
    private final Pipeline.Worker tunFeeder;
    private final Pipeline.Worker udpFeeder;
    /**
     * The TUN reader thread, and the packets it keeps to seal itself from its latest read, up to a super-packet's
     * worth (that thread only).
     */
    private volatile Thread tunReader;
    private final Packet[] tunReaderOwn = new Packet[Pipeline.BATCH];
    private int tunReaderOwned;
    /** The TUN reader's packets of its latest read for one peer, handed to it as one batch (that thread only). */
    private final Packet[] tunReaderBatch = new Packet[Pipeline.BATCH];
    private final ThreadLocal<ByteBuffer> tunWriteBuffer = ThreadLocal.withInitial(
            () -> ByteBuffer.allocateDirect(MAX_PACKET));
    /** With the virtio header: each delivering thread's packets, merged per flow until its next flush. */
    private final ThreadLocal<Coalescer> coalescers;
    private final Coalescer.Writer tunWriter = this::writeTun;
    private volatile StaticIdentity identity;
    /** The key as set (the identity holds its own copy); zero for none. Written and read under this object's lock. */
    private final Secret privateKey = Secret.zero();
    private volatile CookieChecker cookieChecker;
    private volatile Hooks hooks;
    private volatile Metrics metrics;
    private volatile int mtu;
    /**
     * How far the TUN reader fills a peer's queue at this MTU: {@link #TUN_READER_IN_FLIGHT}, or fewer where packets
     * are big enough to need grown buffers, so that one peer's queue holds at most half the pool's byte bound.
     */
    private volatile int tunReaderInFlight = TUN_READER_IN_FLIGHT;
    private volatile boolean closed;
    private volatile Tunnel.Listener roamingListener = NO_ROAMING;

    private static final Tunnel.Listener NO_ROAMING = new Tunnel.Listener() {
        @Override
        public void handshakeCompleted(Key peer, InetSocketAddress from, long rttNanos) { }

        @Override
        public void endpointRoamed(Key peer, InetSocketAddress from, InetSocketAddress to) { }
    };

    /** tun null: a device without an interface (tests, the start-up training run). */
    Device(String name, Tun tun, Log log, Runnable onClose) {
        this.name = name;
        this.tun = tun;
        this.log = log;
        this.onClose = onClose;
        int cores = Runtime.getRuntime().availableProcessors();
        this.timers = prestarted(new ScheduledThreadPoolExecutor(1, daemonThreads("jwg-timers")));
        this.handshakes = new Handshakes(this, cores);
        precompute.allowCoreThreadTimeOut(true);
        this.pipeline = new Pipeline(workers(cores), 2 * PACKETS_PER_DIRECTION, this, () -> mtu, "jwg");
        this.tunFeeder = pipeline.feeder();
        this.udpFeeder = pipeline.feeder();
        boolean vnet = tun != null && tun.hasVnetHeader();
        boolean uso = vnet && (tun.offloads() & (Tun.TUN_F_USO4 | Tun.TUN_F_USO6)) == (Tun.TUN_F_USO4 | Tun.TUN_F_USO6);
        this.coalescers = vnet ? ThreadLocal.withInitial(() -> {
            Coalescer c = new Coalescer(Pipeline.FLUSH_EVERY);
            c.setUdp(uso);
            return c;
        }) : null;
        this.udp = new Udp(this, offloadsWanted());
        this.mtu = Protocol.DEFAULT_MTU;
        refreshMtu();
    }

    /**
     * Whether to use the kernel's offloads: TSO/USO and checksums on the TUN device (IFF_VNET_HDR), GSO and GRO on the
     * UDP socket. On unless JWG_OFFLOADS is "off" (or 0, false, no), for measurements and for kernels that misbehave.
     */
    static boolean offloadsWanted() {
        String env = System.getenv("JWG_OFFLOADS");
        return env == null || !(env.equalsIgnoreCase("off") || env.equals("0") || env.equalsIgnoreCase("false")
                || env.equalsIgnoreCase("no"));
    }

    /**
     * Crypto workers besides the two threads that feed the pipeline and take their share of it (the TUN reader and
     * the UDP event loop): together one thread per core. On 2 cores that is no worker at all: measured there (both
     * daemons and iperf3 on the same 2 cores), 2 workers moved 0.66-0.72× the TCP throughput of the single-threaded
     * path at 1.42× its CPU per GB, the hand-overs and wake-ups costing more than the parallel crypto gained.
     * JWG_CRYPTO_WORKERS sets the number (0 or more), for measurements.
     */
    private static int workers(int cores) {
        int byCores = Math.max(0, cores - 2);
        String env = System.getenv("JWG_CRYPTO_WORKERS");
        try {
            return env == null ? byCores : Math.max(0, Math.min(256, Integer.parseInt(env.trim())));
        } catch (NumberFormatException e) {
            return byCores;
        }
    }

    /**
     * e with its threads started now, by the caller (the thread making the device, at the daemon's nice value 0). A
     * thread takes its nice value from the thread that starts it, and an executor starts its threads at its first
     * task: a responder's first peer asked for the timers from a handshake worker, at nice 10, and every peer's
     * timers ran at nice 10 for the rest of the daemon's life, behind whatever a flood gave the workers to do.
     */
    static <E extends ThreadPoolExecutor> E prestarted(E e) {
        e.prestartAllCoreThreads();
        return e;
    }

    static ThreadFactory daemonThreads(String name) {
        return r -> {
            Thread t = new Thread(r, name);
            t.setDaemon(true);
            return t;
        };
    }

    // ---- what peers and workers read ----

    @Override
    public long now() {
        return System.nanoTime();
    }

    @Override
    public long epochNanos() {
        Instant now = Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
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
    public int mtu() {
        return mtu;
    }

    @Override
    public IndexTable<Session> indices() {
        return indices;
    }

    String name() {
        return name;
    }

    Log log() {
        return log;
    }

    Udp udp() {
        return udp;
    }

    Secret privateKey() {
        return privateKey;
    }

    CookieChecker cookieChecker() {
        return cookieChecker;
    }

    AllowedIps<Peer> allowedIps() {
        return allowedIps;
    }

    Drops drops() {
        return drops;
    }

    Collection<Peer> peers() {
        return peers.values();
    }

    Peer peer(Key publicKey) {
        return peers.get(publicKey);
    }

    void setRoamingListener(Tunnel.Listener listener) {
        roamingListener = listener;
    }

    // ---- configuration (callers hold this object's lock: Uapi applies a whole set under it) ----

    /**
     * Sets (or, with the zero key, removes) the private key, as a copy: the caller wipes its own. A peer with the new
     * public key is removed (§ UAPI).
     */
    void setPrivateKey(Secret key) {
        StaticIdentity oldIdentity = identity;
        if (key.sameAs(privateKey)) {
            return;
        }
        privateKey.copyFrom(key);
        identity = key.isZero() ? null : new StaticIdentity(privateKey);
        cookieChecker = identity == null ? null : new CookieChecker(identity, random);
        if (identity != null) {
            Peer self = peers.get(identity.publicKey());
            if (self != null) {
                removePeer(self);
            }
        }
        for (Peer p : peers.values()) {
            p.identityChanged(identity);
            precompute(p);
        }
        if (oldIdentity != null) {
            oldIdentity.wipe();
        }
    }

    Peer addPeer(Key publicKey) {
        Peer p = new Peer(publicKey, this);
        peers.put(publicKey, p);
        precompute(p);
        return p;
    }

    private void precompute(Peer p) {
        try {
            precompute.execute(p.handshake()::computeStaticStatic);
        } catch (RejectedExecutionException closing) {
            // The first handshake computes it, if there is one.
        }
    }

    void removePeer(Peer p) {
        allowedIps.removeAll(p);
        forget(p);
    }

    void removeAllPeers() {
        // One walk of the table for all of them, not one per peer.
        allowedIps.edit(e -> e.clear());
        peers.values().forEach(this::forget);
    }

    /** p leaves the peer map and erases its state; its allowed IPs are the caller's to remove. */
    private void forget(Peer p) {
        peers.remove(p.publicKey, p);
        p.remove();
        Metrics m = metrics;
        if (m != null) {
            m.peerRemoved(p.publicKey);
        }
    }

    void bind(int port, int fwmark) throws IOException {
        udp.bind(port, fwmark);
    }

    /** Binds a free port on 127.0.0.1 only: for devices that talk to each other on this machine (the training). */
    void bindLoopback() throws IOException {
        udp.bindLoopback();
    }

    /**
     * The bytes every peer has sent and received, summed: it changes with any traffic to or from a peer (a packet
     * routed to one, the handshake it starts, a handshake or data from one), and not with what the kernel sends to no
     * peer or with datagrams that reach none. Reads every peer's counters: for the start-up's idle checks between
     * steps, never on the packet path.
     */
    long activity() {
        long sum = 0;
        for (Peer p : peers.values()) {
            sum += p.rxBytes() + p.txBytes();
        }
        return sum;
    }

    /**
     * Roaming's probe: an initiation to the first wave of addresses, then, unless a handshake completed meanwhile, a
     * new one to each next wave waveDelayNanos after the previous (happy eyeballs). See {@link Peer#probeAgain} for
     * why a new initiation rather than the same one.
     */
    void probe(Peer peer, List<List<InetSocketAddress>> waves, long waveDelayNanos) {
        if (waves.isEmpty()) {
            return;
        }
        handshakes.initiate(() -> nextWave(peer, peer.probe(waves.get(0), now()), waves, 1, waveDelayNanos));
    }

    private void nextWave(Peer peer, long previous, List<List<InetSocketAddress>> waves, int i, long delayNanos) {
        if (previous < 0 || i >= waves.size()) {
            return;
        }
        schedule(() -> handshakes.initiate(() -> nextWave(peer, peer.probeAgain(previous, waves.get(i), now()), waves,
                i + 1, delayNanos)), delayNanos);
    }

    /** Roaming's health check of addresses the peer is not using: see {@link Peer#check}. */
    void check(Peer peer, List<InetSocketAddress> targets) {
        handshakes.initiate(() -> peer.check(targets, now()));
    }

    // ---- outbound: the TUN reader thread ----

    /** Runs the TUN reader until the device is closed or the interface disappears. */
    void runTunReader() {
        tunReader = Thread.currentThread();
        boolean vnet = tun.hasVnetHeader();
        int capacity = (vnet ? Tun.VNET_HDR_LEN : 0) + MAX_PACKET;
        ByteBuffer in = ByteBuffer.allocateDirect(capacity);
        long address = Tun.address(in);
        Segmenter segmenter = vnet ? new Segmenter() : null;
        try {
            while (!closed) {
                int len = tun.read(address, capacity);
                if (len == Tun.EMPTY) {
                    pipeline.flush(tunFeeder);
                    if (!tun.awaitReadable(1000)) {
                        refreshMtu();
                    }
                } else if (vnet) {
                    readSegments(segmenter, in, len);
                    sealOwn();
                } else {
                    readPacket(in, len);
                    sealOwn();
                }
            }
        } catch (IOException e) {
            if (!closed) {
                log.verbose("TUN device " + name + " went away (" + e.getMessage() + "), shutting down");
                close();
            }
        } catch (RuntimeException e) {
            log.error("TUN reader failed: " + e);
            close();
        }
    }

    /** One packet read without the virtio header: as it is. */
    private void readPacket(ByteBuffer in, int len) {
        Packet p = takeOutbound(len + Packet.OVERHEAD);
        if (p == null) {
            return;
        }
        in.get(0, p.buf, Message.TRANSPORT_HEADER_LEN, len);
        p.length = len;
        Peer peer = route(p);
        if (peer != null) {
            tunReaderBatch[0] = p;
            send(peer, 1);
        }
    }

    /**
     * One read with the virtio header: a packet, or a TCP or UDP super-packet the kernel left for us to segment. Each
     * segment is written straight into its own pooled packet, headers fixed up. The segments share their addresses,
     * so the first one's route is every one's, and they go to the peer as one batch.
     */
    private void readSegments(Segmenter segmenter, ByteBuffer in, int len) {
        if (!segmenter.reset(in, 0, len)) {
            drops.count(Drop.NOT_IP);
            return;
        }
        Peer peer = null;
        int n = 0;
        while (segmenter.hasNext()) {
            Packet p = takeOutbound(segmenter.nextLength() + Packet.OVERHEAD);
            if (p == null) {
                break;
            }
            p.length = segmenter.next(p.buf, Message.TRANSPORT_HEADER_LEN);
            if (p.length < 0) {
                dropped(p, Drop.NOT_IP);
                break;
            }
            if (peer == null && (peer = route(p)) == null) {
                drops.count(Drop.NO_ROUTE, segmenter.count() - 1);
                break;
            }
            tunReaderBatch[n++] = p;
            if (n == tunReaderBatch.length) {
                send(peer, n);
                n = 0;
            }
        }
        if (n > 0) {
            send(peer, n);
        }
    }

    /** Cryptokey routing, outbound (§2): the peer whose allowed IPs hold the destination address, or null (dropped). */
    private Peer route(Packet p) {
        byte[] b = p.buf;
        int ip = Message.TRANSPORT_HEADER_LEN;
        int version = (b[ip] & 0xff) >> 4;
        Peer peer = null;
        if (version == 4 && p.length >= 20) {
            peer = allowedIps.lookup(b, ip + 16, true);
        } else if (version == 6 && p.length >= 40) {
            peer = allowedIps.lookup(b, ip + 24, false);
        }
        if (peer == null) {
            dropped(p, version == 4 || version == 6 ? Drop.NO_ROUTE : Drop.NOT_IP);
        }
        return peer;
    }

    /** The TUN reader's batch tunReaderBatch[0, n) to peer, once its queue has room for it. */
    private void send(Peer peer, int n) {
        awaitRoom(peer.outbound);
        peer.send(tunReaderBatch, n, now());
        Arrays.fill(tunReaderBatch, 0, n, null);
    }

    /**
     * Seals the TUN reader's share of its latest read, now that no peer's lock is held (seal() only set them aside),
     * and sends what is in order: a super-packet's segments leave together, as one GSO send.
     */
    private void sealOwn() {
        for (int i = 0; i < tunReaderOwned; i++) {
            Packet own = tunReaderOwn[i];
            tunReaderOwn[i] = null;
            pipeline.runHere(tunFeeder, own);
        }
        tunReaderOwned = 0;
        pipeline.handOn(tunFeeder);
    }

    /**
     * Back-pressure, so the sender's TCP sees a slow link instead of loss: when every outbound packet is in flight,
     * the TUN reader waits for one (the kernel then holds further packets in the interface's queue), for
     * {@link #BACKPRESSURE_NANOS} at most; after that the device is stuck, not slow, and the packet is dropped.
     */
    private Packet takeOutbound(int size) {
        Packet p = outboundPackets.take();
        for (long waited = 0; p == null && waited < BACKPRESSURE_NANOS && !closed; waited += BACKPRESSURE_STEP_NANOS) {
            LockSupport.parkNanos(BACKPRESSURE_STEP_NANOS);
            p = outboundPackets.take();
        }
        return fitOutbound(p, size);
    }

    /**
     * p (taken from the outbound pool, or null) with room for size bytes and marked outbound; null, counted as a
     * drop, when there was none or its buffer cannot grow within the pool's byte bound.
     */
    private Packet fitOutbound(Packet p, int size) {
        if (p == null) {
            drops.count(Drop.BUFFERS_EXHAUSTED);
            return null;
        }
        if (!outboundPackets.fit(p, size)) {
            dropped(p, Drop.BUFFERS_EXHAUSTED);
            return null;
        }
        p.outbound = true;
        return p;
    }

    /** The same for one peer's queue: the reader waits while it is nearly full, leaving room for keepalives. */
    private void awaitRoom(OrderedQueue queue) {
        int limit = tunReaderInFlight;
        for (long waited = 0; queue.size() >= limit && waited < BACKPRESSURE_NANOS && !closed;
                waited += BACKPRESSURE_STEP_NANOS) {
            LockSupport.parkNanos(BACKPRESSURE_STEP_NANOS);
        }
    }

    /**
     * Follows `ip link set mtu` (padding must not exceed the MTU). The MTU is read by interface name in the daemon's
     * namespace, so once the interface has moved to another namespace (as wg-quick and the test suites do) it cannot
     * be read: the last known value stays. Only a failed read or write of the device itself means it is gone.
     */
    private void refreshMtu() {
        if (tun == null) {
            return;
        }
        try {
            mtu = tun.mtu();
        } catch (IOException elsewhere) {
            // keep the last known MTU
        }
        int packet = mtu + Packet.OVERHEAD;
        tunReaderInFlight = packet <= Packet.INITIAL_CAPACITY ? TUN_READER_IN_FLIGHT
                : (int) Math.max(64, Math.min(TUN_READER_IN_FLIGHT, PacketPool.LARGE_BYTES / 2 / packet));
    }

    // ---- inbound: the UDP event loop ----

    /**
     * One datagram from the network, content[at, at+len), sent from from's selected source (made into an address
     * object only for a datagram that gets that far). Event loop thread only. Never throws, never answers garbage.
     */
    void receive(ByteBuf content, int at, int len, ReceiveBatch from) {
        int type = len >= Message.TRANSPORT_MIN_LEN ? content.getByte(at) : Message.INVALID;
        if (type == Message.TRANSPORT) {
            receiveTransport(content, at, len, from);
        } else if (type == Message.INITIATION || type == Message.RESPONSE || type == Message.COOKIE_REPLY) {
            InetSocketAddress source = from.source();
            if (source != null) {
                handshakes.received(content, at, len, type, source);
            }
        } else if (!udp.tookWarmUp(len)) {
            drops.count(Drop.MALFORMED);
        }
    }

    private void receiveTransport(ByteBuf content, int at, int len, ReceiveBatch from) {
        if (len > MAX_PACKET) {
            drops.count(Drop.TOO_BIG);
            return;
        }
        // Classified and its index found where it landed (type and length are checked already), so a stranger's
        // datagram costs no pooled buffer (nor grows one), nor an address object.
        if (content.getMedium(at + 1) != 0) {
            drops.count(Drop.MALFORMED);
            return;
        }
        Session s = indices.get(content.getIntLE(at + Message.TRANSPORT_RECEIVER));
        if (s == null || s.keypair() == null) {
            drops.count(Drop.UNKNOWN_INDEX);
            return;
        }
        InetSocketAddress source = from.source();
        if (source == null) {
            drops.count(Drop.MALFORMED);
            return;
        }
        Packet p = inboundPackets.take();
        if (p == null) {
            drops.count(Drop.BUFFERS_EXHAUSTED);
            return;
        }
        p.outbound = false;
        if (!inboundPackets.fit(p, len)) {
            dropped(p, Drop.BUFFERS_EXHAUSTED);
            return;
        }
        content.getBytes(at, p.buf, 0, len);
        p.length = len;
        p.peer = s.peer();
        p.keypair = s.keypair();
        p.counter = Message.getLong(p.buf, Message.TRANSPORT_COUNTER);
        p.address = source;
        if (!p.peer.inbound.add(p)) {
            dropped(p, Drop.PEER_QUEUE_FULL);
            return;
        }
        if (pipeline.feederTurn(udpFeeder)) {
            pipeline.runHere(udpFeeder, p);
        } else {
            pipeline.submit(p);
        }
    }

    // ---- the pipeline's ends (worker threads) ----

    @Override
    public void transmit(Packet p) {
        try {
            if (!udp.batch().add(p.buf, 0, p.result, p.address)) {
                drops.count(Drop.SEND_FAILED);
            }
        } catch (RuntimeException e) {
            drops.count(Drop.SEND_FAILED);
            log.error("UDP send: " + e);
        } finally {
            outboundPackets.give(p);
        }
    }

    @Override
    public void failed(Throwable e) {
        log.error("packet pipeline: " + e);
    }

    /** The end of a burst on this thread: its datagrams go out, its coalesced packets go to the TUN device. */
    @Override
    public void flush() {
        udp.batch().flush();
        writeCoalesced();
    }

    @Override
    public void handOff() {
        udp.batch().handOff();
        writeCoalesced();
    }

    /** This thread's coalesced packets to the TUN device (with the virtio header only). */
    private void writeCoalesced() {
        if (coalescers != null) {
            try {
                coalescers.get().flush(tunWriter);
            } catch (IOException e) {
                drops.count(Drop.TUN_WRITE_FAILED);
            }
        }
    }

    /** The UDP event loop read all it could for now: what it opened itself goes out (see {@link #flush}). */
    void receiveComplete() {
        pipeline.flush(udpFeeder);
    }

    /** One write of a virtio header and a packet or super-packet from the coalescer. */
    private void writeTun(ByteBuffer headerAndPacket) throws IOException {
        // Netty reads a direct buffer's address without allocating, where JNA would make a Pointer per call.
        if (!tun.write(PlatformDependent.directBufferAddress(headerAndPacket), headerAndPacket.limit())) {
            drops.count(Drop.TUN_WRITE_FAILED);
        }
    }

    /** Cryptokey routing, inbound (§2): the source address must be one the sending peer is allowed to use. */
    @Override
    public void deliver(Packet p, int n) {
        byte[] b = p.buf;
        int ip = Message.TRANSPORT_HEADER_LEN;
        boolean v4 = (b[ip] & 0xf0) == 0x40;
        if (allowedIps.lookup(b, ip + (v4 ? 12 : 8), v4) != p.peer) {
            dropped(p, Drop.SOURCE_NOT_ALLOWED);
            return;
        }
        if (coalescers != null) {
            Coalescer c = coalescers.get();
            if (!c.add(b, ip, n)) {
                flush();
                c.add(b, ip, n);
            }
        } else if (tun != null) {
            ByteBuffer out = tunWriteBuffer.get();
            out.put(0, b, ip, n);
            try {
                if (!tun.write(PlatformDependent.directBufferAddress(out), n)) {
                    dropped(p, Drop.TUN_WRITE_FAILED);
                    return;
                }
            } catch (IOException e) {
                dropped(p, Drop.TUN_WRITE_FAILED);
                return;
            }
        }
        inboundPackets.give(p);
    }

    // ---- what peers ask for (Driver) ----

    @Override
    public Packet packet(int size) {
        Packet p = outboundPackets.take();
        if (p == null) {
            return null;
        }
        if (!outboundPackets.fit(p, size)) {
            outboundPackets.give(p);
            return null;
        }
        p.outbound = true;
        return p;
    }

    @Override
    public void seal(Packet p) {
        // The TUN reader keeps its share for after the peer's lock (sealing under it would hold up the peer's
        // inbound half); every other caller hands the packet on.
        if (Thread.currentThread() == tunReader && tunReaderOwned < tunReaderOwn.length
                && pipeline.feederTurn(tunFeeder)) {
            tunReaderOwn[tunReaderOwned++] = p;
        } else {
            pipeline.submit(p);
        }
    }

    @Override
    public void sendHandshake(byte[] message, InetSocketAddress to) {
        if (!udp.sendDirect(message, 0, message.length, to)) {
            drops.count(Drop.SEND_FAILED);
        }
    }

    @Override
    public boolean initiate(Peer peer) {
        return handshakes.initiate(() -> peer.initiate(now()));
    }

    @Override
    public void wakeAt(Peer peer, long deadline) {
        schedule(() -> peer.tick(now()), deadline - now());
    }

    private void schedule(Runnable task, long delayNanos) {
        try {
            timers.schedule(task, Math.max(0, delayNanos), TimeUnit.NANOSECONDS);
        } catch (RejectedExecutionException closing) {
            // the device is closing
        }
    }

    /**
     * Erases kp's keys a grace period after it left its peer. A packet a worker took before that may still be sealed
     * or opened with it; the pipeline's queues are bounded and drain in milliseconds, so after the grace nothing
     * holds it, and erasing earlier would only turn such a packet into one that fails to authenticate.
     */
    @Override
    public void retire(Keypair kp) {
        retiring.add(kp);
        schedule(() -> {
            kp.destroy();
            retiring.remove(kp);
        }, RETIRE_GRACE_NANOS);
    }

    @Override
    public void dropped(Packet p, Drop why) {
        drops.count(why);
        recycle(p);
    }

    @Override
    public void recycle(Packet p) {
        (p.outbound ? outboundPackets : inboundPackets).give(p);
    }

    @Override
    public void count(Drop why) {
        drops.count(why);
    }

    @Override
    public void log(String message) {
        log.verbose(message);
    }

    @Override
    public boolean logging() {
        return log.verbose();
    }

    @Override
    public void peerEvent(Peer peer, Hooks.Event event, InetSocketAddress endpoint, InetSocketAddress before,
                          String reason) {
        Hooks h = hooks;
        if (h != null) {
            h.post(event, peer.publicKey, endpoint == null ? null : Uapi.formatEndpoint(endpoint),
                    before == null ? null : Uapi.formatEndpoint(before), reason);
        }
        Metrics m = metrics;
        if (m != null && event == Hooks.Event.ENDPOINT_CHANGED) {
            m.endpointChanged(peer.publicKey, reason);
        }
    }

    /** Prometheus metrics (JWG_METRICS), or none. Closed with the device. */
    void setMetrics(Metrics metrics) {
        this.metrics = metrics;
    }

    /** The operator's hook (JWG_HOOK, or the config's); none in tests. Closed with the device. */
    void setHooks(Hooks hooks) {
        this.hooks = hooks;
    }

    Hooks hooks() {
        return hooks;
    }

    @Override
    public void handshakeCompleted(Peer peer, InetSocketAddress from, long rttNanos) {
        roamingListener.handshakeCompleted(peer.publicKey, from, rttNanos);
        Metrics m = metrics;
        if (m != null) {
            m.handshakeRtt(peer.publicKey, rttNanos);
        }
    }

    /**
     * Kept so that the UDP loop can tell, with one lookup and no lock, whether a handshake message comes from where
     * one of our peers is: such initiations get a lane of their own through a flood ({@link Handshakes}).
     */
    @Override
    public void endpointMoved(InetSocketAddress from, InetSocketAddress to) {
        if (from != null) {
            endpoints.computeIfPresent(from, (address, n) -> n == 1 ? null : n - 1);
        }
        if (to != null) {
            endpoints.merge(to, 1, Integer::sum);
        }
    }

    /** Whether address is some peer's endpoint now. Any thread; no lock. */
    boolean isPeerEndpoint(InetSocketAddress address) {
        return endpoints.containsKey(address);
    }

    @Override
    public void endpointRoamed(Peer peer, InetSocketAddress from, InetSocketAddress to) {
        roamingListener.endpointRoamed(peer.publicKey, from, to);
    }

    // ---- life cycle ----

    boolean isClosed() {
        return closed;
    }

    @Override
    public void close() {
        synchronized (this) {
            if (closed) {
                return;
            }
            closed = true;
        }
        for (Peer p : peers.values()) {
            p.remove();
        }
        udp.close();
        handshakes.close();
        precompute.shutdownNow();
        pipeline.close();
        timers.shutdownNow();
        // Nothing seals or opens any more: what was waiting out its grace goes now, with the device's own key.
        for (Keypair kp : retiring) {
            kp.destroy();
        }
        retiring.clear();
        privateKey.wipe();
        if (identity != null) {
            identity.wipe();
        }
        if (hooks != null) {
            hooks.close();
        }
        if (metrics != null) {
            metrics.close();
        }
        if (tun != null) {
            tun.close();
        }
        onClose.run();
    }
}
