package jwg.tunnel;

import java.net.InetSocketAddress;
import java.security.SecureRandom;
import jwg.noise.Drop;
import jwg.noise.IndexTable;
import jwg.noise.Keypair;
import jwg.noise.StaticIdentity;

/**
 * Everything a {@link Peer} needs from the world around it, and all it can ask of it. The device implements it with
 * sockets, threads and a TUN device; tests implement it with a fake clock and a wire between two peers.
 *
 * <p>A peer calls these methods with its lock held, so none of them may call back into the peer on the caller's
 * stack: work that needs the peer again ({@link #initiate}, {@link #wakeAt}) is queued.
 */
interface Driver {
    /** The device's identity, or null while it has no private key. */
    StaticIdentity identity();

    SecureRandom random();

    /** Wall-clock time, nanoseconds since the epoch: initiation timestamps and the last handshake time. */
    long epochNanos();

    /** The tunnel's MTU, which caps padding (§5.4.6). */
    int mtu();

    /** The device's receiver indices; each peer adds and removes its own entries only. */
    IndexTable<Session> indices();

    /**
     * A free outbound packet (for a keepalive or a staged packet) whose buffer holds size bytes, or null when none is
     * free or the buffers' byte bound leaves no room for one that big.
     */
    Packet packet(int size);

    /**
     * Seals p, which {@link Peer} has appended to its outbound queue with keypair and counter set, then sends it to
     * p.address once everything before it in that queue has gone.
     */
    void seal(Packet p);

    /** Sends a handshake message (initiation, response) now. */
    void sendHandshake(byte[] message, InetSocketAddress to);

    /** Soon, on a thread that may do DH work, calls {@link Peer#initiate}; false if it cannot (closing). */
    boolean initiate(Peer peer);

    /** Calls {@link Peer#tick} at deadline (a monotonic time) or soon after; an earlier request may stay in force. */
    void wakeAt(Peer peer, long deadline);

    /**
     * kp left its peer (pushed out by newer sessions, expired, or its peer removed): erase its keys once no packet in
     * flight can still be sealed or opened with them.
     */
    void retire(Keypair kp);

    /** p goes no further: count why, and take the buffer back. */
    void dropped(Packet p, Drop why);

    /** Takes back a packet buffer that is done with, not dropped (its contents were copied elsewhere). */
    void recycle(Packet p);

    /** A message without a packet buffer went no further (a handshake message, a staged packet). */
    void count(Drop why);

    void log(String message);

    /**
     * Whether {@link #log} goes anywhere: callers on the handshake path ask first, so a daemon that logs nothing
     * builds no message (and a cold one spins up no string concatenation for its first handshake).
     */
    default boolean logging() {
        return true;
    }

    /** An initiation of ours was answered from address from, rttNanos after it was sent there (-1: not known). */
    void handshakeCompleted(Peer peer, InetSocketAddress from, long rttNanos);

    /**
     * A session came up or went down, or the endpoint changed (endpoint and before as they are now and were; null:
     * none): the operator's hook runs, later and elsewhere ({@link Hooks}).
     */
    default void peerEvent(Peer peer, Hooks.Event event, InetSocketAddress endpoint, InetSocketAddress before,
                           String reason) { }

    /**
     * A peer's endpoint changed from from to to (either null: none before, the peer is gone). The device keeps the
     * set of its peers' endpoints for the handshake queue's lane of known senders.
     */
    void endpointMoved(InetSocketAddress from, InetSocketAddress to);

    /** An authenticated packet the peer sent on its own came from a new address (§2.1, roaming). */
    void endpointRoamed(Peer peer, InetSocketAddress from, InetSocketAddress to);
}
