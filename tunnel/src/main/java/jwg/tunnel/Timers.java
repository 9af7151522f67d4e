package jwg.tunnel;

import static jwg.noise.Protocol.KEEPALIVE_TIMEOUT_NANOS;
import static jwg.noise.Protocol.REJECT_AFTER_TIME_NANOS;
import static jwg.noise.Protocol.REKEY_ATTEMPT_TIME_NANOS;
import static jwg.noise.Protocol.REKEY_TIMEOUT_JITTER_MAX_NANOS;
import static jwg.noise.Protocol.REKEY_TIMEOUT_NANOS;

import java.util.concurrent.ScheduledExecutorService;
import java.util.concurrent.ThreadLocalRandom;

/**
 * A peer's timers (§6), as the kernel's timers.c lays them out:
 * <ul>
 * <li>retransmitHandshake: an initiation went unanswered for REKEY_TIMEOUT (+ jitter): send another, until
 *     REKEY_ATTEMPT_TIME has passed; then give up and drop the staged packets.</li>
 * <li>sendKeepalive: data arrived and nothing was sent back for KEEPALIVE_TIMEOUT: send a keepalive (passive
 *     keepalive), so the other side knows its data got through.</li>
 * <li>newHandshake: data was sent and nothing came back for KEEPALIVE_TIMEOUT + REKEY_TIMEOUT: the session is
 *     presumed dead, start a new handshake.</li>
 * <li>zeroKeyMaterial: no new session for 3 × REJECT_AFTER_TIME: erase every key of this peer.</li>
 * <li>persistentKeepalive: nothing authenticated sent or received for the configured interval: send a keepalive
 *     (keeps NAT and firewall mappings open).</li>
 * </ul>
 * The hooks below are the only way the rest of the device touches them; each says when it must be called. They are
 * called on every packet, so they only move deadlines (see {@link Timer}).
 */
final class Timers {
    static final int MAX_TIMER_HANDSHAKES = (int) (REKEY_ATTEMPT_TIME_NANOS / REKEY_TIMEOUT_NANOS);

    private final Peer peer;
    private final Timer retransmitHandshake;
    private final Timer sendKeepalive;
    private final Timer newHandshake;
    private final Timer zeroKeyMaterial;
    private final Timer persistentKeepalive;
    private volatile int handshakeAttempts;
    private volatile boolean needAnotherKeepalive;

    Timers(Peer peer, ScheduledExecutorService scheduler) {
        this.peer = peer;
        this.retransmitHandshake = new Timer(scheduler, this::expiredRetransmitHandshake);
        this.sendKeepalive = new Timer(scheduler, this::expiredSendKeepalive);
        this.newHandshake = new Timer(scheduler, this::expiredNewHandshake);
        this.zeroKeyMaterial = new Timer(scheduler, peer::zeroKeyMaterial);
        this.persistentKeepalive = new Timer(scheduler, this::expiredPersistentKeepalive);
    }

    /** Should be called after an authenticated data packet is sent. */
    void dataSent() {
        if (!newHandshake.pending()) {
            newHandshake.mod(KEEPALIVE_TIMEOUT_NANOS + REKEY_TIMEOUT_NANOS + jitter());
        }
    }

    /** Should be called after an authenticated data packet is received. */
    void dataReceived() {
        if (!sendKeepalive.pending()) {
            sendKeepalive.mod(KEEPALIVE_TIMEOUT_NANOS);
        } else {
            needAnotherKeepalive = true;
        }
    }

    /** Should be called after any type of authenticated packet is sent: keepalive, data, or handshake. */
    void anyAuthenticatedPacketSent() {
        sendKeepalive.del();
    }

    /** Should be called after any type of authenticated packet is received: keepalive, data, or handshake. */
    void anyAuthenticatedPacketReceived() {
        newHandshake.del();
    }

    /** Should be called after a handshake initiation message is sent. */
    void handshakeInitiated() {
        retransmitHandshake.mod(REKEY_TIMEOUT_NANOS + jitter());
    }

    /** Should be called after a handshake response message is received and processed, or when getting key confirmation via the first data message. */
    void handshakeComplete() {
        retransmitHandshake.del();
        handshakeAttempts = 0;
        peer.recordHandshakeTime();
    }

    /** Should be called after an ephemeral key is created, which is before sending a handshake response or after receiving one. */
    void sessionDerived() {
        zeroKeyMaterial.mod(3 * REJECT_AFTER_TIME_NANOS);
    }

    /** Should be called before a packet with authentication, whether keepalive, data, or handshake, is sent, or after one is received. */
    void anyAuthenticatedPacketTraversal() {
        int interval = peer.persistentKeepaliveInterval();
        if (interval > 0) {
            persistentKeepalive.mod(interval * 1_000_000_000L);
        }
    }

    /** A fresh non-retry initiation resets the attempt count (wireguard-go SendHandshakeInitiation(false)). */
    void resetHandshakeAttempts() {
        handshakeAttempts = 0;
    }

    /** Stops every timer: the peer is removed or the device closes. */
    void stop() {
        retransmitHandshake.del();
        sendKeepalive.del();
        newHandshake.del();
        zeroKeyMaterial.del();
        persistentKeepalive.del();
    }

    private void expiredRetransmitHandshake() {
        if (handshakeAttempts > MAX_TIMER_HANDSHAKES) {
            peer.log().verbose(peer + ": handshake did not complete after " + (MAX_TIMER_HANDSHAKES + 2)
                    + " attempts, giving up");
            sendKeepalive.del();
            peer.dropStaged();
            if (!zeroKeyMaterial.pending()) {
                zeroKeyMaterial.mod(3 * REJECT_AFTER_TIME_NANOS);
            }
            return;
        }
        handshakeAttempts++;
        peer.log().verbose(peer + ": handshake did not complete after " + REKEY_TIMEOUT_NANOS / 1_000_000_000L
                + " seconds, retrying (try " + (handshakeAttempts + 1) + ")");
        peer.sendHandshakeInitiation(true);
    }

    private void expiredSendKeepalive() {
        peer.sendKeepalive();
        if (needAnotherKeepalive) {
            needAnotherKeepalive = false;
            sendKeepalive.mod(KEEPALIVE_TIMEOUT_NANOS);
        }
    }

    private void expiredNewHandshake() {
        peer.log().verbose(peer + ": retrying handshake because we stopped hearing back after "
                + (KEEPALIVE_TIMEOUT_NANOS + REKEY_TIMEOUT_NANOS) / 1_000_000_000L + " seconds");
        peer.sendHandshakeInitiation(false);
    }

    private void expiredPersistentKeepalive() {
        if (peer.persistentKeepaliveInterval() > 0) {
            peer.sendKeepalive();
        }
    }

    private static long jitter() {
        return ThreadLocalRandom.current().nextLong(REKEY_TIMEOUT_JITTER_MAX_NANOS);
    }
}
