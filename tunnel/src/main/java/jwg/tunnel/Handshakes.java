package jwg.tunnel;

import java.net.InetSocketAddress;
import java.util.concurrent.ArrayBlockingQueue;
import java.util.concurrent.LinkedBlockingQueue;
import java.util.concurrent.RejectedExecutionException;
import java.util.concurrent.ThreadPoolExecutor;
import java.util.concurrent.TimeUnit;
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
 * <p>Under load means: the queue of received handshake messages was at least {@link #UNDER_LOAD_QUEUE} deep less
 * than a second ago (wireguard-go's rule and figures: 1024 slots, under load from an eighth full). Work for one peer
 * may run on several workers at once; the peer's lock serialises it.
 */
final class Handshakes implements AutoCloseable {
    static final int QUEUE = 1024;
    static final int UNDER_LOAD_QUEUE = QUEUE / 8;
    static final long UNDER_LOAD_FOR_NANOS = 1_000_000_000L;

    private final Device device;
    /** Messages from the network: bounded, since anyone can send them. */
    private final ThreadPoolExecutor workers;
    /**
     * This side's own initiations and roaming's probes: never refused, or a peer whose request was lost would not
     * initiate again. At most one initiation per peer waits (Peer asks only when none is queued), so it is bounded
     * by the number of peers. Its threads exist only while there is work.
     */
    private final ThreadPoolExecutor initiations;
    private final Ratelimiter ratelimiter = new Ratelimiter();
    private volatile long underLoadSince;

    Handshakes(Device device, int threads) {
        this.device = device;
        this.underLoadSince = device.now() - 2 * UNDER_LOAD_FOR_NANOS;
        this.workers = new ThreadPoolExecutor(threads, threads, 0, TimeUnit.SECONDS, new ArrayBlockingQueue<>(QUEUE),
                Device.daemonThreads("jwg-handshake"), (task, pool) -> device.count(Drop.HANDSHAKE_QUEUE_FULL));
        this.initiations = new ThreadPoolExecutor(threads, threads, 1, TimeUnit.SECONDS, new LinkedBlockingQueue<>(),
                Device.daemonThreads("jwg-initiate"));
        this.initiations.allowCoreThreadTimeOut(true);
    }

    /** A handshake message (initiation, response or cookie reply, classified) from the network. UDP loop only. */
    void received(byte[] msg, InetSocketAddress from) {
        if (workers.getQueue().size() >= UNDER_LOAD_QUEUE) {
            underLoadSince = device.now();
        }
        try {
            workers.execute(() -> handle(msg, from));
        } catch (RejectedExecutionException closed) {
            // the device is closing
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

    private void handle(byte[] msg, InetSocketAddress from) {
        try {
            int type = Message.classify(msg, 0, msg.length);
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
            if (!checker.checkMac1(msg, 0, msg.length)) {
                device.count(Drop.BAD_MAC1);
                return;
            }
            long now = device.now();
            if (underLoad()) {
                byte[] source = CookieChecker.source(from.getAddress().getAddress(), from.getPort());
                if (!checker.checkMac2(msg, 0, msg.length, source, now)) {
                    byte[] reply = new byte[Message.COOKIE_REPLY_LEN];
                    checker.createReply(msg, 0, msg.length, source, now, reply, 0);
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
                initiation(identity, msg, from, now);
            } else {
                response(msg, from, now);
            }
        } catch (RuntimeException e) {
            device.log().error("handshake message from " + Uapi.formatEndpoint(from) + " failed: " + e);
        }
    }

    private void initiation(StaticIdentity identity, byte[] msg, InetSocketAddress from, long now) {
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
        peer.respond(from, msg.length, now);
    }

    private void response(byte[] msg, InetSocketAddress from, long now) {
        Session s = device.indices().get(Message.getInt(msg, Message.RESPONSE_RECEIVER));
        if (s == null || s.keypair() != null) {
            device.count(Drop.UNKNOWN_INDEX);
            return;
        }
        s.peer().consumeResponse(msg, from, now);
    }

    @Override
    public void close() {
        workers.shutdownNow();
        initiations.shutdownNow();
    }
}
