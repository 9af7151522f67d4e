package jwg.noise;

import java.security.SecureRandom;
import java.util.Arrays;
import javax.crypto.SecretKey;

/**
 * A ChaCha20-Poly1305 key as {@link Aead#key} makes it: the raw 32 bytes already split into the eight little-endian
 * words ChaCha20's state takes, so sealing reads them without the copy that {@link SecretKey#getEncoded} must make.
 * It stays a {@link SecretKey} so that the JCE accepts it too (tests cross-check against SunJCE with it). Immutable
 * until {@link #destroy}.
 */
final class AeadKey implements SecretKey {
    private static final long serialVersionUID = 1L;
    static final int LEN = 32;

    private static final SecureRandom SCRAMBLE = new SecureRandom();

    private final int[] words = new int[8];
    private volatile boolean destroyed;

    AeadKey(byte[] raw) {
        if (raw.length != LEN) {
            throw new IllegalArgumentException("a ChaCha20-Poly1305 key has 32 bytes, not " + raw.length);
        }
        for (int i = 0; i < 8; i++) {
            words[i] = Message.getInt(raw, 4 * i);
        }
    }

    /** The key words of any 32-byte RAW secret key; only an AeadKey gives them without allocating. */
    static int[] words(SecretKey key) {
        if (key instanceof AeadKey k) {
            return k.words;
        }
        byte[] raw = key.getEncoded();
        try {
            return new AeadKey(raw).words;
        } finally {
            Arrays.fill(raw, (byte) 0);
        }
    }

    @Override
    public String getAlgorithm() {
        return "ChaCha20-Poly1305";
    }

    @Override
    public String getFormat() {
        return "RAW";
    }

    @Override
    public byte[] getEncoded() {
        byte[] raw = new byte[LEN];
        for (int i = 0; i < 8; i++) {
            Message.putInt(raw, 4 * i, words[i]);
        }
        return raw;
    }

    /**
     * Erases the key by overwriting it with random words, not zeros: a message a late worker still seals with it then
     * goes out under a key nobody knows, and fails to authenticate, instead of under the all-zero key anyone can use.
     */
    @Override
    public void destroy() {
        for (int i = 0; i < words.length; i++) {
            words[i] = SCRAMBLE.nextInt();
        }
        destroyed = true;
    }

    @Override
    public boolean isDestroyed() {
        return destroyed;
    }
}
