package jwg.noise;

/**
 * Why a packet went no further, from the first look at a datagram or a TUN read to the TUN write. WireGuard never
 * answers the unauthenticated, so a drop is silent on the wire; the device counts each one under its reason, so
 * nothing disappears without a trace.
 *
 * <p>On the per-packet path a drop travels as a negative int ({@link #code()}) so that no object is made per packet;
 * {@link #ofCode} turns it back into the reason. Lengths and other results are never negative, so codes cannot be
 * mistaken for them.
 */
public enum Drop {
    // Any message, before authentication.
    MALFORMED,
    BAD_MAC1,
    BAD_MAC2,
    NO_IDENTITY,
    UNKNOWN_PEER,
    UNKNOWN_INDEX,
    WRONG_STATE,
    ZERO_DH,
    DECRYPT_FAILED,
    REPLAYED_TIMESTAMP,
    INITIATION_FLOOD,
    NO_COOKIE_REQUESTED,
    /** Under load: a handshake message without a valid mac2 got a cookie reply instead of an answer. */
    COOKIE_REPLY_SENT,
    /** Under load: the source sent more handshake messages than its rate allows. */
    RATE_LIMITED,
    /** The handshake queue was full. */
    HANDSHAKE_QUEUE_FULL,
    // Transport messages.
    REPLAYED_COUNTER,
    COUNTER_EXHAUSTED,
    /** The keypair is older than REJECT_AFTER_TIME (§6.1). */
    KEYPAIR_EXPIRED,
    /** The decrypted packet is not a whole IPv4 or IPv6 packet. */
    NOT_IP,
    /** Cryptokey routing: the inner source address does not belong to the peer that sent it (§2). */
    SOURCE_NOT_ALLOWED,
    /** The TUN device refused the write. */
    TUN_WRITE_FAILED,
    // Outbound.
    /** No peer's allowed IPs cover the destination address. */
    NO_ROUTE,
    /** More packets waited for a handshake than the staged queue holds: the oldest went. */
    STAGED_OVERFLOW,
    /** The handshake gave up after REKEY_ATTEMPT_TIME; the packets staged for it went with it. */
    HANDSHAKE_GAVE_UP,
    /** The peer was removed or the device closed with packets still queued. */
    PEER_GONE,
    /** The UDP socket refused the datagram, or there was no socket. */
    SEND_FAILED,
    // Either direction.
    /** Every packet buffer of that direction was in use: the pipeline is behind. */
    BUFFERS_EXHAUSTED,
    /** The peer's queue of packets in flight was full. */
    PEER_QUEUE_FULL,
    /** Bigger than the largest packet the device handles. */
    TOO_BIG;

    private static final Drop[] ALL = values();

    /** This reason as a negative int, for results that are otherwise lengths. */
    public int code() {
        return -1 - ordinal();
    }

    /** The reason of a negative result; MALFORMED for a value that is no code. */
    public static Drop ofCode(int code) {
        int i = -1 - code;
        return i >= 0 && i < ALL.length ? ALL[i] : MALFORMED;
    }
}
