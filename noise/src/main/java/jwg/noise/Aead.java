package jwg.noise;

import javax.crypto.SecretKey;

/**
 * The whitepaper's AEAD: ChaCha20-Poly1305 (RFC 8439) with nonce = 4 zero bytes ‖ 64-bit little-endian counter.
 *
 * <p>Runs {@link ChaCha20Poly1305}, one instance per thread, which allocates nothing per message; keys made by
 * {@link #key} are read without a copy. (It used to be SunJCE's cipher: ~1 µs and ~2.2 KB of garbage per
 * message for the {@code init} every nonce needs; see ChaCha20Poly1305 for the figures.) Input and output may be the
 * same array region, which is how transport data is sealed and opened in place. Thread-safe: all state is
 * thread-local.
 */
public final class Aead {
    public static final int TAG_LEN = ChaCha20Poly1305.TAG_LEN;
    public static final int NONCE_LEN = 12;

    private static final ThreadLocal<ChaCha20Poly1305> CIPHER = ThreadLocal.withInitial(ChaCha20Poly1305::new);

    private Aead() {}

    /** A key for {@link #seal} and {@link #open}: raw must hold 32 bytes, which the key copies. */
    public static SecretKey key(byte[] raw) {
        return new AeadKey(raw);
    }

    /**
     * AEAD(key, counter, plain, aad): seals in[inOff, inOff+len) into out[outOff, outOff+len+16).
     * aad may be null for none.
     */
    public static void seal(SecretKey key, long counter, byte[] in, int inOff, int len, byte[] out, int outOff,
                            byte[] aad) {
        CIPHER.get().seal(key, counter, in, inOff, len, out, outOff, aad);
    }

    /**
     * Opens in[inOff, inOff+len) (ciphertext and tag) into out[outOff, outOff+len-16). Returns false, never throws,
     * when the input is too short or does not authenticate; the output region's content is then unspecified.
     */
    public static boolean open(SecretKey key, long counter, byte[] in, int inOff, int len, byte[] out, int outOff,
                               byte[] aad) {
        return CIPHER.get().open(key, counter, in, inOff, len, out, outOff, aad);
    }

    /** Seal with an arbitrary 12-byte nonce (XChaCha20's inner nonce, test vectors). */
    static void sealWithNonce(SecretKey key, byte[] nonce, byte[] in, int inOff, int len, byte[] out, int outOff,
                              byte[] aad) {
        CIPHER.get().seal(AeadKey.words(key), Message.getInt(nonce, 0), Message.getInt(nonce, 4),
                Message.getInt(nonce, 8), in, inOff, len, out, outOff, aad);
    }

    /** Open with an arbitrary 12-byte nonce. */
    static boolean openWithNonce(SecretKey key, byte[] nonce, byte[] in, int inOff, int len, byte[] out,
                                 int outOff, byte[] aad) {
        return CIPHER.get().open(AeadKey.words(key), Message.getInt(nonce, 0), Message.getInt(nonce, 4),
                Message.getInt(nonce, 8), in, inOff, len, out, outOff, aad);
    }
}
