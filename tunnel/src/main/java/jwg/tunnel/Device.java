package jwg.tunnel;

import static jwg.noise.Protocol.REJECT_AFTER_TIME_NANOS;

import io.netty.buffer.ByteBuf;
import java.io.IOException;
import java.net.InetSocketAddress;
import java.nio.ByteBuffer;
import java.security.SecureRandom;
import java.util.Collection;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.Executors;
import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
import jwg.noise.CookieChecker;
import jwg.noise.Handshake;
import jwg.noise.IndexTable;
import jwg.noise.Key;
import jwg.noise.Keypair;
import jwg.noise.Message;
import jwg.noise.Result;
import jwg.noise.StaticIdentity;
import jwg.tun.Tun;

/**
 * The WireGuard interface: configuration (identity, port, peers, allowed IPs) and the packet paths.
 *
 * <pre>
 * outbound, TUN reader thread:  TUN read (batch until EMPTY) → allowed-IPs by destination → seal in place → UDP write;
 *                               flush once per batch (one sendmmsg)
 * inbound, UDP event loop:      recvmmsg → type → transport: index → open in place → replay window → allowed-IPs by
 *                               source must name the same peer → TUN write
 *                               handshake/cookie: copied to the handshake thread (bounded queue)
 * handshake thread:             mac1 → (under load: mac2 or cookie reply, per-source rate limit) → DH work → UDP
 * timer thread:                 the per-peer timers of §6
 * </pre>
 * A peer's packets go through one thread in each direction, so per-peer order holds without reordering buffers; no
 * lock is taken by all packets (allowed-IPs and the index table are read lock-free, replay windows lock per keypair).
 */
final class Device implements AutoCloseable {
    /** wireguard-go: the handshake queue has 1024 slots and the device counts as under load from 1/8 full. */
    static final int HANDSHAKE_QUEUE = 1024;
    static final int UNDER_LOAD_QUEUE = HANDSHAKE_QUEUE / 8;
    static final long UNDER_LOAD_AFTER_NANOS = 1_000_000_000L;
    private static final int MAX_PACKET = 65535;

    private final String name;
    private final Log log;
    private final Tun tun;
    private final SecureRandom random = new SecureRandom();
    private final ScheduledExecutorService scheduler;
    private final ThreadPoolExecutor handshakes;
    private final IndexTable<Session> indices = new IndexTable<>(random);
    private final Map<Key, Peer> peers = new ConcurrentHashMap<>();
    private final AllowedIps<Peer> allowedIps = new AllowedIps<>();
    private final Ratelimiter ratelimiter = new Ratelimiter();
    private final Udp udp;
    private volatile StaticIdentity identity;
    private volatile Key privateKey = Key.zero();
    private volatile CookieChecker cookieChecker;
    private volatile int mtu;
    private volatile long lastUnderLoadNanos = System.nanoTime() - 2 * UNDER_LOAD_AFTER_NANOS;
    private volatile boolean closed;
    private final Runnable onClose;
    private volatile jwg.roaming.Tunnel.Listener roamingListener = NO_ROAMING;
    private static final jwg.roaming.Tunnel.Listener NO_ROAMING = new jwg.roaming.Tunnel.Listener() {
        @Override
        public void handshakeCompleted(Key peer, InetSocketAddress from, long rttNanos) { }

        @Override
        public void endpointRoamed(Key peer, InetSocketAddress from, InetSocketAddress to) { }
    };

    // Inbound buffers, confined to the UDP event loop thread.
    private final byte[] inWork = new byte[MAX_PACKET + 64];
    private final ByteBuffer inNative = ByteBuffer.allocateDirect(MAX_PACKET + 64);
    private final long inNativeAddress;

    Device(String name, Tun tun, Log log, Runnable onClose) {
        this.name = name;
        this.tun = tun;
        this.log = log;
        this.onClose = onClose;
        this.scheduler = Executors.newSingleThreadScheduledExecutor(r -> daemonThread(r, "jwg-timers"));
        this.handshakes = new ThreadPoolExecutor(1, 1, 0, TimeUnit.SECONDS,
                new ArrayBlockingQueue<>(HANDSHAKE_QUEUE), r -> daemonThread(r, "jwg-handshake"),
                new ThreadPoolExecutor.DiscardPolicy());
        this.inNativeAddress = Tun.address(inNative);
        this.udp = new Udp(this);
        try {
            this.mtu = tun == null ? 1420 : tun.mtu();
        } catch (IOException e) {
            this.mtu = 1420;
        }
    }

    private static Thread daemonThread(Runnable r, String name) {
        Thread t = new Thread(r, name);
        t.setDaemon(true);
        return t;
    }

    static long epochNanos() {
        java.time.Instant now = java.time.Instant.now();
        return now.getEpochSecond() * 1_000_000_000L + now.getNano();
    }

    String name() {
        return name;
    }

    Log log() {
        return log;
    }

    ScheduledExecutorService scheduler() {
        return scheduler;
    }

    SecureRandom random() {
        return random;
    }

    Udp udp() {
        return udp;
    }

    int mtu() {
        return mtu;
    }

    StaticIdentity identity() {
        return identity;
    }

    Key privateKey() {
        return privateKey;
    }

    AllowedIps<Peer> allowedIps() {
        return allowedIps;
    }

    Collection<Peer> peers() {
        return peers.values();
    }

    Peer peer(Key publicKey) {
        return peers.get(publicKey);
    }

    jwg.roaming.Tunnel.Listener roamingListener() {
        return roamingListener;
    }

    void setRoamingListener(jwg.roaming.Tunnel.Listener listener) {
        roamingListener = listener;
    }

    int allocateIndex(Session s) {
        return indices.allocate(s);
    }

    void replaceIndex(int index, Session s) {
        indices.replace(index, s);
    }

    /** Frees index if it still names owner (null: any handshake session). */
    void releaseIndex(int index, Session owner) {
        Session current = indices.get(index);
        if (current != null && (owner == null ? current.keypair() == null : current == owner)) {
            indices.remove(index, current);
        }
    }

    void onHandshakeThread(Runnable task) {
        handshakes.execute(task);
    }

    // ---- configuration (callers hold the device's configuration lock: Uapi applies a whole set under it) ----

    /** Sets (or, with the zero key, removes) the private key. A peer with the new public key is removed (§ UAPI). */
    void setPrivateKey(Key key) {
        if (key.equals(privateKey)) {
            return;
        }
        privateKey = key;
        identity = key.isZero() ? null : new StaticIdentity(key);
        cookieChecker = identity == null ? null : new CookieChecker(identity, random);
        if (identity != null) {
            Peer self = peers.get(identity.publicKey());
            if (self != null) {
                removePeer(self);
            }
        }
        for (Peer p : peers.values()) {
            p.expireKeys();
        }
    }

    Peer addPeer(Key publicKey) {
        Peer p = new Peer(this, publicKey);
        peers.put(publicKey, p);
        return p;
    }

    void removePeer(Peer p) {
        peers.remove(p.publicKey, p);
        allowedIps.removeAll(p);
        p.remove();
    }

    void removeAllPeers() {
        for (Peer p : peers.values()) {
            removePeer(p);
        }
    }

    // ---- outbound: the TUN reader thread ----

    /** Runs the TUN reader until the device is closed or the interface disappears. */
    void runTunReader() {
        ByteBuffer in = ByteBuffer.allocateDirect(MAX_PACKET);
        long address = Tun.address(in);
        byte[] work = new byte[Message.TRANSPORT_HEADER_LEN + MAX_PACKET + 16 + 16];
        try {
            while (!closed) {
                int len = tun.read(address, MAX_PACKET);
                if (len == Tun.EMPTY) {
                    udp.flush();
                    if (!tun.awaitReadable(1000)) {
                        refreshMtu();
                    }
                    continue;
                }
                in.get(0, work, Message.TRANSPORT_HEADER_LEN, len);
                routeOutbound(work, len);
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

    /**
     * Follows `ip link set mtu` (padding must not exceed the MTU). The MTU is read by interface name in the daemon's
     * namespace, so once the interface has moved to another namespace (as wg-quick and the test suites do) it cannot
     * be read: the last known value stays. Only a failed read or write of the device itself means it is gone.
     */
    private void refreshMtu() {
        try {
            mtu = tun.mtu();
        } catch (IOException elsewhere) {
            // keep the last known MTU
        }
    }

    private void routeOutbound(byte[] work, int len) {
        int ip = Message.TRANSPORT_HEADER_LEN;
        int version = (work[ip] & 0xff) >> 4;
        Peer peer;
        if (version == 4 && len >= 20) {
            peer = allowedIps.lookup(work, ip + 16, true);
        } else if (version == 6 && len >= 40) {
            peer = allowedIps.lookup(work, ip + 24, false);
        } else {
            return;
        }
        if (peer != null) {
            peer.sendData(work, len);
        }
    }

    // ---- inbound: the UDP event loop ----

    /** One datagram from the network. Event loop thread only. Never throws, never answers garbage. */
    void receive(ByteBuf content, InetSocketAddress from) {
        int len = content.readableBytes();
        if (len > inWork.length) {
            return;
        }
        content.getBytes(content.readerIndex(), inWork, 0, len);
        switch (Message.classify(inWork, 0, len)) {
            case Message.TRANSPORT -> receiveTransport(len, from);
            case Message.INITIATION, Message.RESPONSE, Message.COOKIE_REPLY -> queueHandshake(len, from);
            default -> { }
        }
    }

    private void receiveTransport(int len, InetSocketAddress from) {
        Session s = indices.get(Message.getInt(inWork, Message.TRANSPORT_RECEIVER));
        if (s == null || s.keypair() == null) {
            return;
        }
        Keypair kp = s.keypair();
        Peer peer = s.peer();
        if (System.nanoTime() - kp.createdNanos() >= REJECT_AFTER_TIME_NANOS) {
            return;
        }
        int n = kp.open(inWork, 0, len);
        if (n < 0) {
            return;
        }
        peer.receivedWith(kp);
        peer.keepKeyFreshReceiving(kp);
        peer.receivedFrom(from);
        peer.rxBytes.addAndGet(len);
        peer.timers.anyAuthenticatedPacketTraversal();
        peer.timers.anyAuthenticatedPacketReceived();
        if (n == 0) {
            return;
        }
        int packetLen = innerLength(n);
        if (packetLen < 0) {
            return;
        }
        int ip = Message.TRANSPORT_HEADER_LEN;
        boolean v4 = (inWork[ip] & 0xf0) == 0x40;
        if (allowedIps.lookup(inWork, ip + (v4 ? 12 : 8), v4) != peer) {
            log.verbose(peer + ": dropped a packet whose source address it is not allowed to use");
            return;
        }
        peer.timers.dataReceived();
        inNative.put(0, inWork, ip, packetLen);
        try {
            tun.write(inNativeAddress, packetLen);
        } catch (IOException e) {
            log.error("writing to " + name + ": " + e.getMessage());
        }
    }

    /** The IP packet's own length inside n bytes of padded plaintext, or -1 if it is not a whole IPv4/IPv6 packet. */
    private int innerLength(int n) {
        int ip = Message.TRANSPORT_HEADER_LEN;
        int version = (inWork[ip] & 0xff) >> 4;
        int total;
        if (version == 4 && n >= 20) {
            total = (inWork[ip + 2] & 0xff) << 8 | (inWork[ip + 3] & 0xff);
        } else if (version == 6 && n >= 40) {
            total = 40 + ((inWork[ip + 4] & 0xff) << 8 | (inWork[ip + 5] & 0xff));
        } else {
            return -1;
        }
        return total <= n && total >= (version == 4 ? 20 : 40) ? total : -1;
    }

    private void queueHandshake(int len, InetSocketAddress from) {
        byte[] msg = java.util.Arrays.copyOf(inWork, len);
        if (handshakes.getQueue().size() >= UNDER_LOAD_QUEUE) {
            lastUnderLoadNanos = System.nanoTime();
        }
        handshakes.execute(() -> handleHandshake(msg, from));
    }

    private boolean underLoad() {
        return System.nanoTime() - lastUnderLoadNanos < UNDER_LOAD_AFTER_NANOS;
    }

    // ---- the handshake thread ----

    private void handleHandshake(byte[] msg, InetSocketAddress from) {
        try {
            int type = Message.classify(msg, 0, msg.length);
            if (type == Message.COOKIE_REPLY) {
                receiveCookieReply(msg);
                return;
            }
            CookieChecker checker = cookieChecker;
            StaticIdentity id = identity;
            if (checker == null || id == null || !checker.checkMac1(msg, 0, msg.length)) {
                return;
            }
            long now = System.nanoTime();
            if (underLoad()) {
                byte[] source = CookieChecker.source(from.getAddress().getAddress(), from.getPort());
                if (!checker.checkMac2(msg, 0, msg.length, source, now)) {
                    byte[] reply = new byte[Message.COOKIE_REPLY_LEN];
                    checker.createReply(msg, 0, msg.length, source, now, reply, 0);
                    udp.sendNow(reply, 0, reply.length, from);
                    return;
                }
                if (!ratelimiter.allow(from.getAddress(), now)) {
                    return;
                }
            }
            if (type == Message.INITIATION) {
                receiveInitiation(id, msg, from, now);
            } else {
                receiveResponse(msg, from, now);
            }
        } catch (RuntimeException e) {
            log.error("handshake message from " + from + " failed: " + e);
        }
    }

    private void receiveCookieReply(byte[] msg) {
        Session s = indices.get(Message.getInt(msg, Message.COOKIE_REPLY_RECEIVER));
        if (s != null) {
            s.peer().cookies.consumeReply(msg, 0, System.nanoTime());
        }
    }

    private void receiveInitiation(StaticIdentity id, byte[] msg, InetSocketAddress from, long now) {
        Result<Handshake> r = Handshake.consumeInitiation(id, msg, 0, key -> {
            Peer p = peers.get(key);
            return p == null ? null : p.handshake;
        }, now);
        if (!(r instanceof Result.Ok<Handshake> ok)) {
            log.verbose("dropped a handshake initiation from " + Uapi.formatEndpoint(from) + ": "
                    + ((Result.Dropped<Handshake>) r).reason());
            return;
        }
        Peer peer = peers.get(ok.value().remoteStatic());
        if (peer == null) {
            return;
        }
        log.verbose(peer + ": received handshake initiation");
        peer.receivedFrom(from);
        peer.rxBytes.addAndGet(msg.length);
        peer.timers.anyAuthenticatedPacketTraversal();
        peer.timers.anyAuthenticatedPacketReceived();
        byte[] response = new byte[Message.RESPONSE_LEN];
        int index = peer.newHandshakeIndex();
        if (!peer.handshake.createResponse(response, 0, index, random)) {
            return;
        }
        Keypair kp = peer.handshake.deriveKeypair(now);
        if (kp == null) {
            return;
        }
        peer.installKeypair(kp);
        peer.cookies.addMacs(response, 0, response.length, now);
        log.verbose(peer + ": sending handshake response");
        peer.timers.anyAuthenticatedPacketTraversal();
        peer.timers.anyAuthenticatedPacketSent();
        udp.sendNow(response, 0, response.length, from);
        peer.txBytes.addAndGet(response.length);
    }

    private void receiveResponse(byte[] msg, InetSocketAddress from, long now) {
        Session s = indices.get(Message.getInt(msg, Message.RESPONSE_RECEIVER));
        if (s == null || s.keypair() != null) {
            return;
        }
        Peer peer = s.peer();
        Result<Handshake> r = peer.handshake.consumeResponse(msg, 0);
        if (!r.isOk()) {
            log.verbose(peer + ": dropped a handshake response: " + ((Result.Dropped<Handshake>) r).reason());
            return;
        }
        log.verbose(peer + ": received handshake response");
        long rtt = peer.initiationRtt(from);
        peer.answeredFrom(from);
        peer.rxBytes.addAndGet(msg.length);
        peer.timers.anyAuthenticatedPacketTraversal();
        peer.timers.anyAuthenticatedPacketReceived();
        Keypair kp = peer.handshake.deriveKeypair(now);
        if (kp == null) {
            return;
        }
        peer.installKeypair(kp);
        peer.timers.handshakeComplete();
        peer.sendStagedOrKeepalive();
        roamingListener.handshakeCompleted(peer.publicKey, from, rtt);
    }

    // ---- life cycle ----

    void bind(int port, int fwmark) throws IOException {
        udp.bind(port, fwmark);
    }

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
        handshakes.shutdownNow();
        scheduler.shutdownNow();
        if (tun != null) {
            tun.close();
        }
        onClose.run();
    }
}
