package jwg.tunnel;

import static jwg.noise.Protocol.REJECT_AFTER_TIME_NANOS;
import static jwg.noise.Protocol.REKEY_AFTER_MESSAGES;
import static jwg.noise.Protocol.REKEY_AFTER_TIME_NANOS;
import static jwg.noise.Protocol.REKEY_TIMEOUT_NANOS;

import java.net.Inet6Address;
import java.net.InetSocketAddress;
import java.util.List;
import java.util.Map;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.ConcurrentHashMap;
import java.util.concurrent.TimeUnit;
import java.util.concurrent.atomic.AtomicLong;
import java.util.stream.Collectors;
import jwg.noise.CookieGenerator;
import jwg.noise.Handshake;
import jwg.noise.Key;
import jwg.noise.Keypair;
import jwg.noise.Message;

/**
 * One configured peer: its handshake, cookie state, keypairs, endpoint, timers, counters, and the packets staged
 * while it has no session.
 */
final class Peer {
    /** wireguard-go's QueueStagedSize: packets held while a handshake is under way; the oldest go first. */
    static final int MAX_STAGED = 128;

    private final Device device;
    final Key publicKey;
    final Handshake handshake;
    final CookieGenerator cookies;
    final Keypairs keypairs = new Keypairs();
    final Timers timers;
    final AtomicLong txBytes = new AtomicLong();
    final AtomicLong rxBytes = new AtomicLong();
    private final ArrayBlockingQueue<byte[]> staged = new ArrayBlockingQueue<>(MAX_STAGED);
    private volatile InetSocketAddress endpoint;
    private volatile int persistentKeepaliveInterval;
    private volatile Key presharedKey = Key.zero();
    private volatile long lastHandshakeEpochNanos;
    private volatile long lastSentHandshakeNanos = System.nanoTime() - 2 * REKEY_TIMEOUT_NANOS;
    private int handshakeIndex;
    private volatile long lastReceivedNanos;
    private volatile long lastDataSentNanos;
    /** Where and when the initiation in flight was sent, for the RTT roaming records. */
    private volatile Map<InetSocketAddress, Long> initiationSentAt = Map.of();
    private volatile boolean removed;

    Peer(Device device, Key publicKey) {
        this.device = device;
        this.publicKey = publicKey;
        this.handshake = new Handshake(device.identity(), publicKey);
        this.cookies = new CookieGenerator(publicKey);
        this.timers = new Timers(this, device.scheduler());
    }

    Log log() {
        return device.log();
    }

    InetSocketAddress endpoint() {
        return endpoint;
    }

    /** Built-in roaming (§2.1): set from configuration, and from the source of every authenticated packet. */
    void setEndpoint(InetSocketAddress address) {
        InetSocketAddress old = endpoint;
        if (address != null && !address.equals(old)) {
            endpoint = address;
            if (old != null) {
                log().verbose(this + ": endpoint changed from " + Uapi.formatEndpoint(old) + " to "
                        + Uapi.formatEndpoint(address));
            }
        }
    }

    /** The source of an authenticated packet the peer sent on its own (data, keepalive, initiation): §2.1 roaming. */
    void receivedFrom(InetSocketAddress address) {
        lastReceivedNanos = System.nanoTime();
        InetSocketAddress old = endpoint;
        if (address != null && !address.equals(old)) {
            setEndpoint(address);
            if (old != null) {
                device.roamingListener().endpointRoamed(publicKey, old, address);
            }
        }
    }

    /** A response to our own initiation: it moves the endpoint, but it is no sign of the peer roaming. */
    void answeredFrom(InetSocketAddress address) {
        lastReceivedNanos = System.nanoTime();
        setEndpoint(address);
    }

    long lastReceivedNanos() {
        return lastReceivedNanos;
    }

    long lastDataSentNanos() {
        return lastDataSentNanos;
    }

    /** The time since the initiation in flight was sent to from, or -1 if it was not sent there. */
    long initiationRtt(InetSocketAddress from) {
        Long at = initiationSentAt.get(from);
        return at == null ? -1 : System.nanoTime() - at;
    }

    int persistentKeepaliveInterval() {
        return persistentKeepaliveInterval;
    }

    void setPersistentKeepaliveInterval(int seconds) {
        persistentKeepaliveInterval = seconds;
    }

    Key presharedKey() {
        return presharedKey;
    }

    void setPresharedKey(Key psk) {
        presharedKey = psk;
        handshake.setPresharedKey(psk);
    }

    long lastHandshakeEpochNanos() {
        return lastHandshakeEpochNanos;
    }

    void recordHandshakeTime() {
        lastHandshakeEpochNanos = Device.epochNanos();
    }

    /**
     * Seals the IP packet at work[16, 16+len) and sends it; stages it and starts a handshake when there is no usable
     * session. Called on the TUN reader thread.
     */
    void sendData(byte[] work, int len) {
        Keypair kp = keypairs.current();
        long now = System.nanoTime();
        InetSocketAddress to = endpoint;
        if (kp == null || now - kp.createdNanos() >= REJECT_AFTER_TIME_NANOS || to == null) {
            stage(work, len);
            sendHandshakeInitiation(false);
            return;
        }
        int n = kp.seal(work, 0, len, device.mtu());
        if (n < 0) {
            stage(work, len);
            sendHandshakeInitiation(false);
            return;
        }
        transmit(work, n, to, true);
        keepKeyFreshSending(kp, now);
    }

    /** §6.1: the initiator rekeys a keypair that is old or has sent too much, on the next send. */
    private void keepKeyFreshSending(Keypair kp, long now) {
        if (kp.isInitiator() && (Long.compareUnsigned(kp.sendCount(), REKEY_AFTER_MESSAGES) > 0
                || now - kp.createdNanos() > REKEY_AFTER_TIME_NANOS)) {
            sendHandshakeInitiation(false);
        }
    }

    /**
     * §6.1: the initiator, receiving on a keypair about to be rejected (older than REJECT_AFTER_TIME −
     * KEEPALIVE_TIMEOUT − REKEY_TIMEOUT), starts a new handshake so the session does not lapse while only the other
     * side talks.
     */
    void keepKeyFreshReceiving(Keypair kp) {
        if (kp == keypairs.current() && kp.isInitiator() && System.nanoTime() - kp.createdNanos()
                > REJECT_AFTER_TIME_NANOS - jwg.noise.Protocol.KEEPALIVE_TIMEOUT_NANOS - REKEY_TIMEOUT_NANOS) {
            sendHandshakeInitiation(false);
        }
    }

    /** Sends an empty transport message (keepalive), or starts a handshake when there is no session to send it on. */
    void sendKeepalive() {
        Keypair kp = keypairs.current();
        InetSocketAddress to = endpoint;
        if (kp == null || to == null || System.nanoTime() - kp.createdNanos() >= REJECT_AFTER_TIME_NANOS) {
            sendHandshakeInitiation(false);
            return;
        }
        byte[] buf = new byte[Message.TRANSPORT_MIN_LEN];
        int n = kp.seal(buf, 0, 0, 0);
        if (n < 0) {
            return;
        }
        transmit(buf, n, to, false);
        device.udp().flush();
    }

    /** Sends a sealed transport message, with the timer hooks and counters every authenticated send needs. */
    private void transmit(byte[] buf, int n, InetSocketAddress to, boolean data) {
        timers.anyAuthenticatedPacketTraversal();
        timers.anyAuthenticatedPacketSent();
        device.udp().send(buf, 0, n, to);
        txBytes.addAndGet(n);
        if (data) {
            timers.dataSent();
            lastDataSentNanos = System.nanoTime();
        }
    }

    /**
     * The initiator's first send on a new session (§5.4.5): what was staged, or else a keepalive, since the responder
     * may not send until this side's first message confirms the session.
     */
    void sendStagedOrKeepalive() {
        if (staged.isEmpty()) {
            sendKeepalive();
            return;
        }
        sendStaged();
    }

    /** Sends what was staged while there was no session (the responder, once its session is confirmed). */
    void sendStaged() {
        if (staged.isEmpty()) {
            return;
        }
        Keypair kp = keypairs.current();
        InetSocketAddress to = endpoint;
        if (kp == null || to == null) {
            return;
        }
        for (byte[] packet; (packet = staged.poll()) != null; ) {
            byte[] work = new byte[Message.TRANSPORT_HEADER_LEN + packet.length + 16 + 16];
            System.arraycopy(packet, 0, work, Message.TRANSPORT_HEADER_LEN, packet.length);
            int n = kp.seal(work, 0, packet.length, device.mtu());
            if (n < 0) {
                return;
            }
            transmit(work, n, to, true);
        }
        device.udp().flush();
    }

    private void stage(byte[] work, int len) {
        byte[] copy = new byte[len];
        System.arraycopy(work, Message.TRANSPORT_HEADER_LEN, copy, 0, len);
        while (!staged.offer(copy)) {
            staged.poll();
        }
    }

    void dropStaged() {
        staged.clear();
    }

    /**
     * Starts a handshake unless one was sent less than REKEY_TIMEOUT ago (§6.1: at most one initiation per
     * REKEY_TIMEOUT). The DH work happens on the device's handshake thread, never on a packet thread.
     */
    void sendHandshakeInitiation(boolean retry) {
        if (!retry) {
            timers.resetHandshakeAttempts();
        }
        if (System.nanoTime() - lastSentHandshakeNanos < REKEY_TIMEOUT_NANOS || removed) {
            return;
        }
        device.onHandshakeThread(() -> createAndSendInitiation());
    }

    private void createAndSendInitiation() {
        if (System.nanoTime() - lastSentHandshakeNanos < REKEY_TIMEOUT_NANOS || removed) {
            return;
        }
        InetSocketAddress to = endpoint;
        sendInitiation(to == null ? List.of() : List.of(to), new ConcurrentHashMap<>());
    }

    /**
     * Roaming's probe: an initiation to the IPv6 candidates, then, unless a handshake completed meanwhile, a fresh
     * one to the IPv4 candidates ipv4DelayNanos later (happy eyeballs). Within a family one message goes to every
     * address: the responder accepts it once and drops the copies as replays. Across families it must not: where IPv6
     * carries initiations but not their responses, the responder would accept the IPv6 copy and drop the IPv4 one as
     * its replay, probe after probe (found against the kernel). The fresh one replaces this side's handshake state, so
     * an IPv6 response slower than the head start no longer counts: IPv4 has won. Roaming paces its own probes, so
     * this bypasses the one-per-REKEY_TIMEOUT limit.
     */
    void probe(List<InetSocketAddress> candidates, long ipv4DelayNanos) {
        Map<Boolean, List<InetSocketAddress>> byFamily = candidates.stream()
                .collect(Collectors.partitioningBy(a -> a.getAddress() instanceof Inet6Address));
        List<InetSocketAddress> v6 = byFamily.get(true);
        List<InetSocketAddress> v4 = byFamily.get(false);
        Map<InetSocketAddress, Long> sent = new ConcurrentHashMap<>();
        long started = Device.epochNanos();
        device.onHandshakeThread(() -> {
            if (v6.isEmpty()) {
                sendInitiation(v4, sent);
                return;
            }
            sendInitiation(v6, sent);
            if (!v4.isEmpty()) {
                device.scheduler().schedule(() -> device.onHandshakeThread(() -> {
                    if (initiationSentAt == sent && lastHandshakeEpochNanos < started) {
                        sendInitiation(v4, sent);
                    }
                }), ipv4DelayNanos, TimeUnit.NANOSECONDS);
            }
        });
    }

    /** A new initiation, sent to every address in to; sent records when it left for each. Handshake thread only. */
    private void sendInitiation(List<InetSocketAddress> to, Map<InetSocketAddress, Long> sent) {
        if (removed || !handshake.canHandshake()) {
            return;
        }
        long now = System.nanoTime();
        lastSentHandshakeNanos = now;
        byte[] msg = new byte[Message.INITIATION_LEN];
        if (!handshake.createInitiation(msg, 0, newHandshakeIndex(), device.random(), Device.epochNanos())) {
            return;
        }
        cookies.addMacs(msg, 0, msg.length, now);
        log().verbose(this + ": sending handshake initiation to " + to.size() + " address(es)");
        timers.anyAuthenticatedPacketTraversal();
        timers.anyAuthenticatedPacketSent();
        initiationSentAt = sent;
        for (InetSocketAddress address : to) {
            sent.put(address, System.nanoTime());
            device.udp().sendNow(msg, 0, msg.length, address);
            txBytes.addAndGet(msg.length);
        }
        timers.handshakeInitiated();
    }

    /** Gives the handshake in flight a fresh receiver index, releasing the old one. Handshake thread only. */
    int newHandshakeIndex() {
        if (handshakeIndex != 0) {
            device.releaseIndex(handshakeIndex, null);
        }
        handshakeIndex = device.allocateIndex(new Session(this, null));
        return handshakeIndex;
    }

    /** Installs the keypair a completed handshake derived, under the handshake's index. Handshake thread only. */
    Keypair installKeypair(Keypair kp) {
        Session session = new Session(this, kp);
        device.replaceIndex(kp.localIndex(), session);
        handshakeIndex = 0;
        List<Session> dropped = keypairs.install(session);
        dropped.forEach(s -> device.releaseIndex(s.keypair().localIndex(), s));
        timers.sessionDerived();
        return kp;
    }

    /** Called with every authenticated transport message's keypair: the first message on "next" confirms it. */
    void receivedWith(Keypair kp) {
        List<Session> dropped = keypairs.received(kp);
        if (dropped != null) {
            dropped.forEach(s -> device.releaseIndex(s.keypair().localIndex(), s));
            timers.handshakeComplete();
            sendStaged();
        }
    }

    /** §6.4: nothing new for 3 × REJECT_AFTER_TIME, so every key of this peer is erased. */
    void zeroKeyMaterial() {
        log().verbose(this + ": removing all keys, since we haven't received a new one in "
                + 3 * REJECT_AFTER_TIME_NANOS / 1_000_000_000L + " seconds");
        releaseKeypairs();
        handshake.clear();
    }

    /** The device's private key changed: sessions under the old one must not be used to send. */
    void expireKeys() {
        releaseKeypairs();
        handshake.setLocalIdentity(device.identity());
        lastSentHandshakeNanos = System.nanoTime() - 2 * REKEY_TIMEOUT_NANOS;
    }

    void remove() {
        removed = true;
        timers.stop();
        releaseKeypairs();
        handshake.clear();
        dropStaged();
    }

    /** Forgets every keypair and frees the receiver indices that named them. */
    private void releaseKeypairs() {
        keypairs.clear().forEach(s -> device.releaseIndex(s.keypair().localIndex(), s));
    }

    boolean isRemoved() {
        return removed;
    }

    @Override
    public String toString() {
        return "peer(" + publicKey.shortForm() + ")";
    }
}
