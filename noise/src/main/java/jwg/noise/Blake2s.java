package jwg.noise;

import org.bouncycastle.crypto.digests.Blake2sDigest;

/**
 * The whitepaper's HASH (BLAKE2s-256) and MAC (keyed BLAKE2s with a 16-byte output, not HMAC), §5.4.
 * Thread-safe: HASH reuses one digest per thread; MAC makes a keyed digest per call (BouncyCastle's cannot be re-keyed).
 */
public final class Blake2s {
    public static final int HASH_LEN = 32;
    public static final int MAC_LEN = 16;

    private static final ThreadLocal<Blake2sDigest> HASHER = ThreadLocal.withInitial(() -> new Blake2sDigest(HASH_LEN * 8));

    private Blake2s() {}

    /** HASH(a ‖ b). */
    public static byte[] hash(byte[] a, byte[] b) {
        byte[] out = new byte[HASH_LEN];
        hash(out, a, 0, a.length, b, 0, b.length);
        return out;
    }

    /** HASH(a ‖ b) into out; out may alias a or b. */
    public static void hash(byte[] out, byte[] a, int aOff, int aLen, byte[] b, int bOff, int bLen) {
        Blake2sDigest d = HASHER.get();
        d.reset();
        d.update(a, aOff, aLen);
        d.update(b, bOff, bLen);
        d.doFinal(out, 0);
    }

    /** MAC(key, data[off, off+len)) into out[outOff, outOff+16). */
    public static void mac(byte[] key, byte[] data, int off, int len, byte[] out, int outOff) {
        Blake2sDigest d = new Blake2sDigest(key, MAC_LEN, null, null);
        d.update(data, off, len);
        d.doFinal(out, outOff);
    }

    /** Keyed or unkeyed BLAKE2s with any output length, for the RFC 7693 self-test. */
    static byte[] digest(byte[] key, int outLen, byte[] data) {
        Blake2sDigest d = new Blake2sDigest(key, outLen, null, null);
        d.update(data, 0, data.length);
        byte[] out = new byte[outLen];
        d.doFinal(out, 0);
        return out;
    }
}
