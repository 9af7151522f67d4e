package jwg.noise;

import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.SecretKey;

/**
 * A transport keypair (§5.4.5, §5.4.6): the two symmetric keys of one completed handshake, the send counter and the
 * receive replay window, sealing and opening type-4 messages in place in caller buffers.
 *
 * <p>Thread-safe: the send counter is an atomic (nonce assignment must never repeat), the replay window has its own
 * lock, the keys are immutable. Per message it allocates only what the JCE forces (see {@link Aead}).
 */
public final class Keypair {
    /** open() results below zero. */
    public static final int OPEN_MALFORMED = -1;
    public static final int OPEN_COUNTER_EXHAUSTED = -2;
    public static final int OPEN_DECRYPT_FAILED = -3;
    public static final int OPEN_REPLAYED = -4;
    /** seal() result when the send counter has reached REJECT_AFTER_MESSAGES. */
    public static final int SEAL_EXHAUSTED = -1;

    private final SecretKey sendKey;
    private final SecretKey receiveKey;
    private final AtomicLong sendCounter = new AtomicLong();
    private final ReplayWindow replay = new ReplayWindow();
    private final boolean initiator;
    private final long createdNanos;
    private final int localIndex;
    private final int remoteIndex;

    Keypair(byte[] sendKey, byte[] receiveKey, boolean initiator, long createdNanos, int localIndex,
            int remoteIndex) {
        this.sendKey = Aead.key(sendKey);
        this.receiveKey = Aead.key(receiveKey);
        this.initiator = initiator;
        this.createdNanos = createdNanos;
        this.localIndex = localIndex;
        this.remoteIndex = remoteIndex;
    }

    /**
     * The plaintext length after padding (§5.4.6): rounded up to a multiple of 16 but never past the MTU, so padding
     * never makes a packet exceed what the tunnel carries. mtu 0 means no cap. Same rule as the kernel's.
     */
    public static int paddedLength(int plainLen, int mtu) {
        int aligned = (plainLen + Message.PADDING_MULTIPLE - 1) & -Message.PADDING_MULTIPLE;
        if (mtu == 0) {
            return aligned;
        }
        int lastUnit = plainLen > mtu ? plainLen % mtu : plainLen;
        int paddedLast = Math.min(mtu, (lastUnit + Message.PADDING_MULTIPLE - 1) & -Message.PADDING_MULTIPLE);
        return plainLen + (paddedLast - lastUnit);
    }

    /**
     * Seals a transport message in place. The plaintext is at buf[off+16, off+16+plainLen); the header goes to
     * buf[off, off+16), padding and tag after the plaintext, so buf needs room for
     * off + 16 + paddedLength(plainLen, mtu) + 16. An empty plaintext is a keepalive. Returns the message length, or
     * SEAL_EXHAUSTED once REJECT_AFTER_MESSAGES counters are used up (the counter then stays there).
     */
    public int seal(byte[] buf, int off, int plainLen, int mtu) {
        long counter = sendCounter.getAndIncrement();
        if (Long.compareUnsigned(counter, Protocol.REJECT_AFTER_MESSAGES) >= 0) {
            sendCounter.set(Protocol.REJECT_AFTER_MESSAGES);
            return SEAL_EXHAUSTED;
        }
        int padded = paddedLength(plainLen, mtu);
        int body = off + Message.TRANSPORT_HEADER_LEN;
        java.util.Arrays.fill(buf, body + plainLen, body + padded, (byte) 0);
        Message.writeHeader(buf, off, Message.TRANSPORT);
        Message.putInt(buf, off + Message.TRANSPORT_RECEIVER, remoteIndex);
        Message.putLong(buf, off + Message.TRANSPORT_COUNTER, counter);
        Aead.seal(sendKey, counter, buf, body, padded, buf, body, null);
        return Message.TRANSPORT_HEADER_LEN + padded + Aead.TAG_LEN;
    }

    /**
     * Opens the transport message buf[off, off+len) in place: on success the (padded) plaintext is at
     * buf[off+16, off+16+result) and the counter has been recorded in the replay window; a result of 0 is a keepalive.
     * A negative result is the OPEN_ reason to drop; nothing is thrown. The caller has matched the receiver index to
     * this keypair and should check its age ({@link #createdNanos()}) against REJECT_AFTER_TIME.
     */
    public int open(byte[] buf, int off, int len) {
        if (len < Message.TRANSPORT_MIN_LEN || !Message.inBounds(buf, off, len)) {
            return OPEN_MALFORMED;
        }
        long counter = Message.getLong(buf, off + Message.TRANSPORT_COUNTER);
        if (Long.compareUnsigned(counter, Protocol.REJECT_AFTER_MESSAGES) >= 0) {
            return OPEN_COUNTER_EXHAUSTED;
        }
        int body = off + Message.TRANSPORT_HEADER_LEN;
        int sealedLen = len - Message.TRANSPORT_HEADER_LEN;
        if (!Aead.open(receiveKey, counter, buf, body, sealedLen, buf, body, null)) {
            return OPEN_DECRYPT_FAILED;
        }
        if (!replay.accept(counter)) {
            return OPEN_REPLAYED;
        }
        return sealedLen - Aead.TAG_LEN;
    }

    /** How many messages this keypair has sealed; the initiator rekeys past REKEY_AFTER_MESSAGES. */
    public long sendCount() {
        return sendCounter.get();
    }

    public boolean isInitiator() {
        return initiator;
    }

    public long createdNanos() {
        return createdNanos;
    }

    public int localIndex() {
        return localIndex;
    }

    public int remoteIndex() {
        return remoteIndex;
    }

    /** A reason for logs and counters. */
    public static Reject reason(int openResult) {
        return switch (openResult) {
            case OPEN_COUNTER_EXHAUSTED -> Reject.COUNTER_EXHAUSTED;
            case OPEN_DECRYPT_FAILED -> Reject.DECRYPT_FAILED;
            case OPEN_REPLAYED -> Reject.REPLAYED_COUNTER;
            default -> Reject.MALFORMED;
        };
    }
}
