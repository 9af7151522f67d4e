package jwg.noise;

import java.util.Arrays;
import java.util.concurrent.atomic.AtomicLong;
import javax.crypto.SecretKey;
import javax.security.auth.DestroyFailedException;

/**
 * A transport keypair (§5.4.5, §5.4.6): the two symmetric keys of one completed handshake, the send counter and the
 * receive replay window, sealing and opening type-4 messages in place in caller buffers.
 *
 * <p>Results below zero are {@link Drop} codes. Sealing and opening come in two halves each, so that a pipeline can
 * do the expensive half in parallel and the order-sensitive half in order: {@link #nextCounter} then
 * {@link #seal(byte[], int, int, int, long)}; {@link #decrypt} then {@link #acceptCounter}.
 *
 * <p>Thread-safe: the send counter is an atomic (nonce assignment must never repeat), the replay window has its own
 * lock, the keys are immutable. Sealing and opening allocate nothing (see {@link Aead}).
 */
public final class Keypair {

    /** What {@link #nextCounter} returns when no counter is left: the first value no message may carry. */
    public static final long EXHAUSTED = Protocol.REJECT_AFTER_MESSAGES;

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
     * Erases both transport keys (see {@link AeadKey#destroy}). Only once nothing should use them any more: a message
     * sealed after this fails to authenticate at the peer, one opened fails here (Driver.retire in tunnel waits for
     * packets in flight first).
     */
    public void destroy() {
        for (SecretKey k : new SecretKey[] {sendKey, receiveKey}) {
            try {
                k.destroy();
            } catch (DestroyFailedException e) {
                throw new IllegalStateException("a transport key that cannot be erased", e);
            }
        }
    }

    /** Whether {@link #destroy} has erased the keys. */
    public boolean isDestroyed() {
        return sendKey.isDestroyed() && receiveKey.isDestroyed();
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
     * Takes the next send counter (an unsigned value), or returns {@link #EXHAUSTED} once REJECT_AFTER_MESSAGES
     * counters are used up; the counter then stays there. Whoever takes counters decides the order messages leave in.
     */
    public long nextCounter() {
        long counter = sendCounter.getAndIncrement();
        if (Long.compareUnsigned(counter, Protocol.REJECT_AFTER_MESSAGES) >= 0) {
            sendCounter.set(Protocol.REJECT_AFTER_MESSAGES);
            return EXHAUSTED;
        }
        return counter;
    }

    /** The length of the sealed message for plainLen bytes of plaintext: header, padded plaintext, tag. */
    public static int sealedLength(int plainLen, int mtu) {
        return Message.TRANSPORT_HEADER_LEN + paddedLength(plainLen, mtu) + Aead.TAG_LEN;
    }

    /**
     * Seals a transport message in place with the next counter. The plaintext is at buf[off+16, off+16+plainLen); the
     * header goes to buf[off, off+16), padding and tag after the plaintext, so buf needs room for
     * off + sealedLength(plainLen, mtu). An empty plaintext is a keepalive. Returns the message length or a Drop code.
     */
    public int seal(byte[] buf, int off, int plainLen, int mtu) {
        long counter = nextCounter();
        return counter == EXHAUSTED ? Drop.COUNTER_EXHAUSTED.code() : seal(buf, off, plainLen, mtu, counter);
    }

    /** Seals as above with a counter already taken from {@link #nextCounter}; safe on any thread. */
    public int seal(byte[] buf, int off, int plainLen, int mtu, long counter) {
        int padded = paddedLength(plainLen, mtu);
        int body = off + Message.TRANSPORT_HEADER_LEN;
        Arrays.fill(buf, body + plainLen, body + padded, (byte) 0);
        Message.writeHeader(buf, off, Message.TRANSPORT);
        Message.putInt(buf, off + Message.TRANSPORT_RECEIVER, remoteIndex);
        Message.putLong(buf, off + Message.TRANSPORT_COUNTER, counter);
        Aead.seal(sendKey, counter, buf, body, padded, buf, body, null);
        return Message.TRANSPORT_HEADER_LEN + padded + Aead.TAG_LEN;
    }

    /**
     * Opens the transport message buf[off, off+len) in place and records its counter in the replay window: on success
     * the (padded) plaintext is at buf[off+16, off+16+result); a result of 0 is a keepalive. A negative result is a
     * Drop code; nothing is thrown. The caller has matched the receiver index to this keypair and should check its
     * age ({@link #createdNanos()}) against REJECT_AFTER_TIME.
     */
    public int open(byte[] buf, int off, int len) {
        int n = decrypt(buf, off, len);
        if (n >= 0 && !acceptCounter(Message.getLong(buf, off + Message.TRANSPORT_COUNTER))) {
            return Drop.REPLAYED_COUNTER.code();
        }
        return n;
    }

    /**
     * The parallel half of {@link #open}: authenticates and decrypts in place, without touching the replay window (so
     * any thread may run it). The message's counter must then go through {@link #acceptCounter} before the packet is
     * believed.
     */
    public int decrypt(byte[] buf, int off, int len) {
        if (len < Message.TRANSPORT_MIN_LEN || !Message.inBounds(buf, off, len)) {
            return Drop.MALFORMED.code();
        }
        long counter = Message.getLong(buf, off + Message.TRANSPORT_COUNTER);
        if (Long.compareUnsigned(counter, Protocol.REJECT_AFTER_MESSAGES) >= 0) {
            return Drop.COUNTER_EXHAUSTED.code();
        }
        int body = off + Message.TRANSPORT_HEADER_LEN;
        int sealedLen = len - Message.TRANSPORT_HEADER_LEN;
        if (!Aead.open(receiveKey, counter, buf, body, sealedLen, buf, body, null)) {
            return Drop.DECRYPT_FAILED.code();
        }
        return sealedLen - Aead.TAG_LEN;
    }

    /** The ordered half of {@link #open}: true the first time an authenticated counter is offered (§5.4.6). */
    public boolean acceptCounter(long counter) {
        return replay.accept(counter);
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
}
