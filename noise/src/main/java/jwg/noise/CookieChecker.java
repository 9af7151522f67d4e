package jwg.noise;

import java.security.MessageDigest;
import java.security.SecureRandom;
import java.util.Arrays;

/**
 * The receiving side of §5.4.4 and §5.4.7: verifies mac1 (before any DH, so garbage costs one BLAKE2s) and mac2, and
 * makes cookie replies. The cookie is MAC(R, source IP ‖ source port) under a random secret R replaced every 120 s;
 * only this side ever checks it, so its input layout is local. Deciding when the device is under load, and so when
 * mac2 is demanded, is the device's business.
 *
 * <p>Thread-safe: mac1 checks read immutable keys; the secret is read and rotated under this object's lock.
 */
public final class CookieChecker {
    private final StaticIdentity identity;
    private final SecureRandom random;
    private final byte[] secret = new byte[32];
    private long secretBornNanos;
    private boolean secretSet;

    public CookieChecker(StaticIdentity identity, SecureRandom random) {
        this.identity = identity;
        this.random = random;
    }

    /** mac1 of a classified handshake message (initiation or response), compared in constant time. */
    public boolean checkMac1(byte[] msg, int off, int len) {
        if (len < 2 * Blake2s.MAC_LEN || !Message.inBounds(msg, off, len)) {
            return false;
        }
        int macOff = Message.mac1Offset(len);
        byte[] expected = new byte[Blake2s.MAC_LEN];
        Blake2s.mac(identity.mac1Key, msg, off, macOff, expected, 0);
        return MessageDigest.isEqual(expected, Arrays.copyOfRange(msg, off + macOff, off + macOff + 16));
    }

    /**
     * mac2 of a classified handshake message from source (IP bytes ‖ port, as {@link #source} builds it). False when
     * the secret has expired: a cookie made under an old secret proves nothing about the sender's address now.
     */
    public boolean checkMac2(byte[] msg, int off, int len, byte[] source, long nowNanos) {
        if (len < 2 * Blake2s.MAC_LEN || !Message.inBounds(msg, off, len)) {
            return false;
        }
        byte[] cookie = currentCookie(source, nowNanos, false);
        if (cookie == null) {
            return false;
        }
        int macOff = Message.mac2Offset(len);
        byte[] expected = new byte[Blake2s.MAC_LEN];
        Blake2s.mac(cookie, msg, off, macOff, expected, 0);
        return MessageDigest.isEqual(expected, Arrays.copyOfRange(msg, off + macOff, off + macOff + 16));
    }

    /**
     * Writes the 64-byte cookie reply to the handshake message msg (already found to have a valid mac1) from source:
     * the cookie sealed with XAEAD under HASH(LABEL_COOKIE ‖ S_pub), a random nonce, and msg's mac1 as associated data,
     * so only the holder of that mac1 (the real sender) can use it.
     */
    public void createReply(byte[] msg, int off, int len, byte[] source, long nowNanos, byte[] out, int outOff) {
        byte[] cookie = currentCookie(source, nowNanos, true);
        byte[] nonce = new byte[XAead.NONCE_LEN];
        random.nextBytes(nonce);
        int macOff = off + Message.mac1Offset(len);
        byte[] mac1 = Arrays.copyOfRange(msg, macOff, macOff + Blake2s.MAC_LEN);
        Message.writeHeader(out, outOff, Message.COOKIE_REPLY);
        System.arraycopy(msg, off + Message.INITIATION_SENDER, out, outOff + Message.COOKIE_REPLY_RECEIVER, 4);
        System.arraycopy(nonce, 0, out, outOff + Message.COOKIE_REPLY_NONCE, XAead.NONCE_LEN);
        XAead.seal(identity.cookieKey, nonce, cookie, 0, cookie.length, out, outOff + Message.COOKIE_REPLY_COOKIE, mac1);
    }

    /** The cookie input for a UDP source: the address bytes (4 or 16) then the port, big-endian. */
    public static byte[] source(byte[] address, int port) {
        byte[] s = new byte[address.length + 2];
        System.arraycopy(address, 0, s, 0, address.length);
        s[address.length] = (byte) (port >>> 8);
        s[address.length + 1] = (byte) port;
        return s;
    }

    private synchronized byte[] currentCookie(byte[] source, long nowNanos, boolean renew) {
        boolean expired = !secretSet || nowNanos - secretBornNanos > Protocol.COOKIE_REFRESH_TIME_NANOS;
        if (expired) {
            if (!renew) {
                return null;
            }
            random.nextBytes(secret);
            secretBornNanos = nowNanos;
            secretSet = true;
        }
        byte[] cookie = new byte[Blake2s.MAC_LEN];
        Blake2s.mac(secret, source, 0, source.length, cookie, 0);
        return cookie;
    }
}
