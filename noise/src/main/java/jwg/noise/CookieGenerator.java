package jwg.noise;

import java.util.Arrays;

/**
 * The sending side of §5.4.4 and §5.4.7, one per peer: stamps mac1 (keyed by the peer's public key) and mac2 (keyed by
 * the last cookie the peer sent us, while younger than 120 s) on outgoing handshake messages, and takes in cookie
 * replies, which only authenticate against the mac1 of our latest message, once.
 *
 * <p>Thread-safe: all state is under this object's lock.
 */
public final class CookieGenerator {
    private final byte[] mac1Key;
    private final byte[] cookieKey;
    private final byte[] lastMac1 = new byte[Blake2s.MAC_LEN];
    private boolean hasLastMac1;
    private final byte[] cookie = new byte[Blake2s.MAC_LEN];
    private long cookieBornNanos;
    private boolean hasCookie;

    public CookieGenerator(Key remoteStatic) {
        this.mac1Key = Blake2s.hash(Protocol.LABEL_MAC1, remoteStatic.raw());
        this.cookieKey = Blake2s.hash(Protocol.LABEL_COOKIE, remoteStatic.raw());
    }

    /** Fills in mac1 and mac2 of the handshake message msg[off, off+len). */
    public synchronized void addMacs(byte[] msg, int off, int len, long nowNanos) {
        int mac1Off = Message.mac1Offset(len);
        Blake2s.mac(mac1Key, msg, off, mac1Off, msg, off + mac1Off);
        System.arraycopy(msg, off + mac1Off, lastMac1, 0, Blake2s.MAC_LEN);
        hasLastMac1 = true;
        int mac2Off = Message.mac2Offset(len);
        if (hasCookie && nowNanos - cookieBornNanos <= Protocol.COOKIE_REFRESH_TIME_NANOS) {
            Blake2s.mac(cookie, msg, off, mac2Off, msg, off + mac2Off);
        } else {
            Arrays.fill(msg, off + mac2Off, off + len, (byte) 0);
        }
    }

    /**
     * Takes in a classified cookie reply addressed to us (the caller matched its receiver index to this peer). Dropped
     * unless we have sent a message it can answer and it authenticates against that message's mac1.
     */
    public synchronized Result<CookieGenerator> consumeReply(byte[] msg, int off, long nowNanos) {
        if (!hasLastMac1) {
            return Result.dropped(Drop.NO_COOKIE_REQUESTED);
        }
        byte[] nonce = Arrays.copyOfRange(msg, off + Message.COOKIE_REPLY_NONCE, off + Message.COOKIE_REPLY_COOKIE);
        byte[] fresh = new byte[Blake2s.MAC_LEN];
        if (!XAead.open(cookieKey, nonce, msg, off + Message.COOKIE_REPLY_COOKIE, Blake2s.MAC_LEN + Aead.TAG_LEN,
                fresh, 0, lastMac1)) {
            return Result.dropped(Drop.DECRYPT_FAILED);
        }
        System.arraycopy(fresh, 0, cookie, 0, Blake2s.MAC_LEN);
        cookieBornNanos = nowNanos;
        hasCookie = true;
        // One reply per message sent, as the kernel does: a replayed reply must not keep refreshing the cookie's age.
        hasLastMac1 = false;
        return Result.ok(this);
    }
}
