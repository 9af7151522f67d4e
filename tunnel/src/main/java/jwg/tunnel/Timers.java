package jwg.tunnel;

import static jwg.noise.Protocol.KEEPALIVE_TIMEOUT_NANOS;
import static jwg.noise.Protocol.REJECT_AFTER_TIME_NANOS;
import static jwg.noise.Protocol.REKEY_TIMEOUT_JITTER_MAX_NANOS;
import static jwg.noise.Protocol.REKEY_TIMEOUT_NANOS;

import java.util.random.RandomGenerator;

/**
 * A peer's five timers of §6 and two of jwg's own, kept as deadlines: nothing here runs by itself. The peer calls
 * the hooks below as packets pass, and {@link Peer#tick} asks {@link #due} which deadlines have passed. A hook only
 * writes a long, so calling them on every packet costs nothing; the driver is woken once per earliest deadline.
 *
 * <pre>
 * timer                armed by                                  when it fires
 * retransmitHandshake  an initiation sent: REKEY_TIMEOUT + jitter  no response came: initiate again, or give up once
 *                                                                  REKEY_ATTEMPT_TIME is spent
 * sendKeepalive        data received, if not already armed:        we had nothing to send back, so a keepalive tells
 *                      KEEPALIVE_TIMEOUT; any send disarms it      the peer its data arrived (passive keepalive)
 * newHandshake         data sent, if not already armed:            nothing at all came back: the session is presumed
 *                      KEEPALIVE + REKEY_TIMEOUT + jitter;         dead, start a new handshake
 *                      anything received disarms it
 * zeroKeyMaterial      a session derived: 3 × REJECT_AFTER_TIME    no new session for that long: erase every key
 * persistentKeepalive  any authenticated packet in or out:         the link was quiet for the configured interval:
 *                      the configured interval                    send a keepalive to keep NAT mappings open
 * closeAnswers         our initiation answered: ANSWER_WINDOW      no further answer to it is looked for any more:
 *                                                                  its secrets go (see Handshake#furtherAnswer)
 * settleHandshake      a further answer to it: SETTLE_DELAY after  a new initiation to the endpoint alone, once the
 *                      the initiation went out                     responder's flood limit lets it through
 * </pre>
 *
 * Not thread-safe: owned by one {@link Peer}, used under its lock. Times are the caller's monotonic nanoseconds.
 */
final class Timers {
    static final long OFF = Long.MIN_VALUE;

    static final int RETRANSMIT_HANDSHAKE = 1;
    static final int SEND_KEEPALIVE = 1 << 1;
    static final int NEW_HANDSHAKE = 1 << 2;
    static final int ZERO_KEY_MATERIAL = 1 << 3;
    static final int PERSISTENT_KEEPALIVE = 1 << 4;
    static final int CLOSE_ANSWERS = 1 << 5;
    static final int SETTLE_HANDSHAKE = 1 << 6;

    /**
     * How long after the first answer to our initiation a further one is looked for: a responder makes its answers
     * to two copies within a millisecond or so of each other, and the window bounds the DH work forged ones can cost.
     */
    static final long ANSWER_WINDOW_NANOS = 1_000_000_000L;
    /**
     * The new initiation after a further answer goes this long after the one answered: the kernel and wireguard-go
     * drop a peer's initiation that comes within 20 ms of the last they took, and the two went the same way.
     */
    static final long SETTLE_DELAY_NANOS = 30_000_000L;

    private final RandomGenerator jitter;
    private long retransmitHandshake = OFF;
    private long sendKeepalive = OFF;
    private long newHandshake = OFF;
    private long zeroKeyMaterial = OFF;
    private long persistentKeepalive = OFF;
    private long closeAnswers = OFF;
    private long settleHandshake = OFF;
    /** Data arrived while a passive keepalive was already due: one more is owed after it. */
    private boolean keepaliveOwed;

    Timers(RandomGenerator jitter) {
        this.jitter = jitter;
    }

    // ---- hooks: each names the event after which the peer must call it ----

    /** After a data packet (not a keepalive) was sent. */
    void dataSent(long now) {
        if (newHandshake == OFF) {
            newHandshake = now + KEEPALIVE_TIMEOUT_NANOS + REKEY_TIMEOUT_NANOS + jitter();
        }
    }

    /** After an authenticated data packet (not a keepalive) was received. */
    void dataReceived(long now) {
        if (sendKeepalive == OFF) {
            sendKeepalive = now + KEEPALIVE_TIMEOUT_NANOS;
        } else {
            keepaliveOwed = true;
        }
    }

    /** After any authenticated message was sent: data, keepalive or handshake. Something went back already. */
    void anyAuthenticatedPacketSent() {
        sendKeepalive = OFF;
    }

    /** After any authenticated message was received: the peer is alive. */
    void anyAuthenticatedPacketReceived() {
        newHandshake = OFF;
    }

    /** Before any authenticated message is sent, and after one is received. */
    void anyAuthenticatedPacketTraversal(long now, int persistentKeepaliveSeconds) {
        if (persistentKeepaliveSeconds > 0) {
            persistentKeepalive = now + persistentKeepaliveSeconds * 1_000_000_000L;
        }
    }

    /**
     * After the passive keepalive went out: data that arrived while it was pending has not been answered either, so
     * one more keepalive is armed.
     */
    void passiveKeepaliveSent(long now) {
        if (keepaliveOwed) {
            keepaliveOwed = false;
            sendKeepalive = now + KEEPALIVE_TIMEOUT_NANOS;
        }
    }

    /** After an initiation was sent. */
    void handshakeInitiated(long now) {
        retransmitHandshake = now + REKEY_TIMEOUT_NANOS + jitter();
    }

    /** After a handshake completed: our initiation was answered, or the initiator confirmed our response. */
    void handshakeComplete() {
        retransmitHandshake = OFF;
    }

    /** After a new keypair was derived, on either side. */
    void sessionDerived(long now) {
        zeroKeyMaterial = now + 3 * REJECT_AFTER_TIME_NANOS;
    }

    /** The handshake gave up: no passive keepalive is owed any more, and keys go in 3 × REJECT_AFTER_TIME at most. */
    void handshakeGaveUp(long now) {
        sendKeepalive = OFF;
        if (zeroKeyMaterial == OFF) {
            zeroKeyMaterial = now + 3 * REJECT_AFTER_TIME_NANOS;
        }
    }

    /** After our initiation was answered (and a further answer may follow). */
    void answered(long now) {
        closeAnswers = now + ANSWER_WINDOW_NANOS;
    }

    /** After the window for further answers closed early: one came, or the peer sent on the session. */
    void answersClosed() {
        closeAnswers = OFF;
    }

    /** After a further answer to the initiation sent at initiatedAt: a new one is due, no earlier than now. */
    void settleHandshake(long initiatedAt, long now) {
        long at = initiatedAt + SETTLE_DELAY_NANOS;
        settleHandshake = at - now > 0 ? at : now;
    }

    /** Persistent keepalive switched off. */
    void persistentKeepaliveOff() {
        persistentKeepalive = OFF;
    }

    /** Every timer off: the peer is removed. */
    void stop() {
        retransmitHandshake = sendKeepalive = newHandshake = zeroKeyMaterial = persistentKeepalive = OFF;
        closeAnswers = settleHandshake = OFF;
        keepaliveOwed = false;
    }

    // ---- expiry ----

    /**
     * The timers whose deadlines have passed, as a set of the bit constants above; each is switched off.
     */
    int due(long now) {
        int fired = 0;
        if (passed(retransmitHandshake, now)) {
            retransmitHandshake = OFF;
            fired |= RETRANSMIT_HANDSHAKE;
        }
        if (passed(sendKeepalive, now)) {
            sendKeepalive = OFF;
            fired |= SEND_KEEPALIVE;
        }
        if (passed(newHandshake, now)) {
            newHandshake = OFF;
            fired |= NEW_HANDSHAKE;
        }
        if (passed(zeroKeyMaterial, now)) {
            zeroKeyMaterial = OFF;
            fired |= ZERO_KEY_MATERIAL;
        }
        if (passed(persistentKeepalive, now)) {
            persistentKeepalive = OFF;
            fired |= PERSISTENT_KEEPALIVE;
        }
        if (passed(closeAnswers, now)) {
            closeAnswers = OFF;
            fired |= CLOSE_ANSWERS;
        }
        if (passed(settleHandshake, now)) {
            settleHandshake = OFF;
            fired |= SETTLE_HANDSHAKE;
        }
        return fired;
    }

    /** The earliest armed deadline, or OFF. */
    long next() {
        long n = OFF;
        n = earlier(n, retransmitHandshake);
        n = earlier(n, sendKeepalive);
        n = earlier(n, newHandshake);
        n = earlier(n, zeroKeyMaterial);
        n = earlier(n, persistentKeepalive);
        n = earlier(n, closeAnswers);
        return earlier(n, settleHandshake);
    }

    private static boolean passed(long deadline, long now) {
        return deadline != OFF && now - deadline >= 0;
    }

    private static long earlier(long a, long b) {
        if (a == OFF) {
            return b;
        }
        return b == OFF || a - b <= 0 ? a : b;
    }

    private long jitter() {
        return jitter.nextLong(REKEY_TIMEOUT_JITTER_MAX_NANOS);
    }
}
